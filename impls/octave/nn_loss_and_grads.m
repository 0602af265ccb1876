function [loss, dW, db] = nn_loss_and_grads (net, W, b, X, Y)
  % Backpropagation over the whole batch: the mean loss and its gradient for every W and b.
  %
  % Walking from the last layer down, delta is dL/dz of the current layer (N x n_out):
  %   dW = a_prev' * delta      sums the N samples' outer products in one matrix product
  %   db = sum(delta, 1)        one number per neuron
  %   delta_prev = act'(z_prev) .* (delta * W')
  [Z, A] = nn_forward (net, W, b, X);
  [loss, delta] = nn_loss_and_delta (net, Z{end}, A{end}, Y);
  layers = numel (W);
  dW = cell (1, layers);
  db = cell (1, layers);
  for l = layers:-1:1
    if l > 1
      a_prev = A{l - 1};
    else
      a_prev = X;
    end
    dW{l} = a_prev' * delta;
    if net.bias
      db{l} = sum (delta, 1);
    else
      db{l} = zeros (size (b{l}), class (b{l}));  % no biases: they stay zero
    end
    if l > 1
      delta = nn_backprop_activation (net.activations{l - 1}, Z{l - 1}, A{l - 1}, ...
                                      delta * W{l}', net.alpha);
    end
  end
end
