function dz = nn_backprop_activation (name, z, a, grad_a, alpha)
  % dL/dz from dL/da for one layer: the activation's derivative, written in terms of the
  % (z, a) the forward pass kept, times the gradient arriving from above.
  switch name
    case 'sigmoid'
      dz = grad_a .* a .* (1 - a);
    case 'tanh'
      dz = grad_a .* (1 - a .* a);
    case 'relu'
      dz = grad_a .* (z > 0);
    case 'leaky_relu'
      slope = ones (size (z), class (z));
      slope(z <= 0) = alpha;
      dz = grad_a .* slope;
    case 'softmax'
      % Each row's Jacobian is diag(S) - S S', and (diag(S) - S S') g = S .* (g - S'g):
      % the product without ever forming the matrix.
      dz = a .* (grad_a - sum (grad_a .* a, 2));
    otherwise  % linear
      dz = grad_a;
  end
end
