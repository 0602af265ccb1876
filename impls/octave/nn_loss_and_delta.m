function [loss, delta] = nn_loss_and_delta (net, z, a, Y)
  % The mean loss of a batch and delta = dL/dz of the last layer (N x n_out).
  %
  % The losses are Keras's: mse is the mean over samples and outputs of (a - y)^2;
  % binary cross-entropy the mean over samples and outputs; categorical cross-entropy the
  % mean over samples of -sum(y log softmax(z)). Cross-entropy is computed from the logits
  % z, the stable form, which is why its delta is simply (a - Y) over the count averaged.
  [n, k] = size (Y);
  switch net.loss
    case 'categorical_crossentropy'
      shifted = z - max (z, [], 2);
      log_softmax = shifted - log (sum (exp (shifted), 2));
      loss = -sum (sum (Y .* log_softmax)) / n;
      delta = (a - Y) / n;
    case 'binary_crossentropy'
      % -[y log s(z) + (1-y) log(1-s(z))] rewritten so nothing overflows:
      % max(z, 0) - z y + log(1 + exp(-|z|)).
      terms = max (z, 0) - z .* Y + log1p (exp (-abs (z)));
      loss = sum (terms(:)) / (n * k);
      delta = (a - Y) / (n * k);
    otherwise  % mse
      err = a - Y;
      loss = sum (err(:) .* err(:)) / (n * k);
      delta = nn_backprop_activation (net.activations{end}, z, a, 2 * err / (n * k), ...
                                      net.alpha);
  end
end
