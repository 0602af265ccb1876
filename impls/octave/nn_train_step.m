function [W, b, loss] = nn_train_step (net, W, b, X, Y, lr)
  % One step of plain gradient descent on one mini-batch: W = W - lr * dW.
  %
  % Returns the batch's loss as it was before the step (what Keras reports).
  [loss, dW, db] = nn_loss_and_grads (net, W, b, X, Y);
  for l = 1:numel (W)
    W{l} = W{l} - lr * dW{l};
    if net.bias
      b{l} = b{l} - lr * db{l};
    end
  end
end
