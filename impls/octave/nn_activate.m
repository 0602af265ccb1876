function a = nn_activate (name, z, alpha)
  % A layer's activation, applied to its pre-activations z (one row per sample).
  %
  % Octave works on whole matrices, so every activation here is one expression over the
  % batch: no loop over samples or neurons.
  switch name
    case 'sigmoid'
      % exp(-|z|) never overflows. For z >= 0 the sigmoid is 1/(1+e); for z < 0 the same
      % function is e/(1+e), which avoids exp(-z) blowing up for very negative z.
      e = exp (-abs (z));
      a = 1 ./ (1 + e);
      negative = z < 0;
      a(negative) = e(negative) ./ (1 + e(negative));
    case 'tanh'
      a = tanh (z);
    case 'relu'
      a = max (z, 0);
    case 'leaky_relu'
      a = z;
      a(z <= 0) = alpha * z(z <= 0);
    case 'softmax'
      % Subtracting each row's largest z leaves softmax unchanged and keeps exp finite.
      % (z - max(...)) subtracts a column from a matrix: Octave broadcasts it along the rows.
      e = exp (z - max (z, [], 2));
      a = e ./ sum (e, 2);
    otherwise  % linear
      a = z;
  end
end
