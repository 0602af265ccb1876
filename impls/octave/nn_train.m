function [W, b, losses, seconds] = nn_train (net, W, b, X, Y, epochs, lr, batch_size)
  % Train `epochs` epochs over the rows of X in order, in mini-batches of batch_size (the
  % last one may be smaller). Returns each epoch's loss and the seconds the loop took.
  %
  % An epoch's loss is the mean over its samples of the loss each mini-batch had before its
  % update, i.e. the batches' losses weighted by their sizes (as Keras's History reports).
  % That sum is kept in double even for single-precision networks, as the Python side does.
  n = size (X, 1);
  lr = cast (lr, class (X));  % a float32 network steps by float32(lr)

  started = tic ();
  % The batches are cut once: in Octave X(rows, :) copies, and the data does not change
  % between epochs.
  firsts = 1:batch_size:n;
  lasts = min (firsts + batch_size - 1, n);
  batches = numel (firsts);
  Xb = cell (1, batches);
  Yb = cell (1, batches);
  for i = 1:batches
    Xb{i} = X(firsts(i):lasts(i), :);
    Yb{i} = Y(firsts(i):lasts(i), :);
  end

  losses = zeros (epochs, 1);
  for epoch = 1:epochs
    total = 0;
    for i = 1:batches
      [W, b, loss] = nn_train_step (net, W, b, Xb{i}, Yb{i}, lr);
      total = total + (lasts(i) - firsts(i) + 1) * double (loss);
    end
    losses(epoch) = total / n;
  end
  seconds = toc (started);
end
