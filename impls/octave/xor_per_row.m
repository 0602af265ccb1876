function [W1, b1, W2, b2, seconds] = xor_per_row (W1, b1, W2, b2, X, Y, epochs, lr)
  % The seed's own form of XOR training (SEEDS A4/A5): a loop over the rows of the truth
  % table, forward and backward one row at a time, the gradients summed over the rows and
  % averaged, then one full-batch step per epoch.
  %
  % A 2-2-1 network, sigmoid in both layers, logistic (binary cross-entropy) cost. Per row,
  % with x a 1 x 2 row and y its target:
  %   a1 = sigmoid(x W1 + b1)              hidden layer, 1 x 2
  %   a2 = sigmoid(a1 W2 + b2)             output, 1 x 1
  %   d2 = a2 - y                          dCost/dz2 of the logistic cost of one row
  %   d1 = (d2 W2') .* a1 .* (1 - a1)      dCost/dz1
  % and the row's gradients are x' d1, d1, a1' d2, d2. Dividing the sums by the number of
  % rows is exactly the batched binary cross-entropy's mean (dividing by 4 is exact in
  % binary floating point), so this form and nn_train give the same weights (to the last bit
  % with both the reference BLAS and OpenBLAS).
  %
  % The sigmoid is nn_activate's, the same function the batched form uses.
  rows = size (X, 1);
  started = tic ();
  for epoch = 1:epochs
    gW1 = zeros (size (W1), class (W1));  gb1 = zeros (size (b1), class (b1));
    gW2 = zeros (size (W2), class (W2));  gb2 = zeros (size (b2), class (b2));
    for r = 1:rows
      x = X(r, :);
      y = Y(r, :);
      a1 = nn_activate ('sigmoid', x * W1 + b1, 0);
      a2 = nn_activate ('sigmoid', a1 * W2 + b2, 0);
      d2 = a2 - y;
      d1 = (d2 * W2') .* a1 .* (1 - a1);
      gW1 = gW1 + x' * d1;   gb1 = gb1 + d1;
      gW2 = gW2 + a1' * d2;  gb2 = gb2 + d2;
    end
    W1 = W1 - lr * (gW1 / rows);  b1 = b1 - lr * (gb1 / rows);
    W2 = W2 - lr * (gW2 / rows);  b2 = b2 - lr * (gb2 / rows);
  end
  seconds = toc (started);
end
