function [Z, A] = nn_forward (net, W, b, X)
  % The whole batch through every layer: z = a_prev * W + b, a = act(z).
  %
  % W{l} is n_in x n_out and b{l} is a 1 x n_out row, so a batch X of N rows (N x n_in)
  % gives N x n_out, the bias row added to every sample by broadcasting. Every layer's
  % Z{l} and A{l} are kept: the backward pass needs them.
  layers = numel (W);
  Z = cell (1, layers);
  A = cell (1, layers);
  a = X;
  for l = 1:layers
    Z{l} = a * W{l} + b{l};
    a = nn_activate (net.activations{l}, Z{l}, net.alpha);
    A{l} = a;
  end
end
