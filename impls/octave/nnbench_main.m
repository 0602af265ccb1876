function nnbench_main ()
  % The Octave end of the bridge from Python (impls/octave_impl.py): run one job.
  %
  % Python starts `octave-cli` in a fresh folder holding
  %   job.m              a few assignments: the task, the network, the settings
  %   <name>.bin         one raw little-endian binary file per array, column-major
  % and this function reads them, runs the task with the nn_*.m functions, and writes its
  % answers beside them as out_<name>.bin, the same way. Raw IEEE-754 bytes carry every
  % double and single bit for bit, which is what makes the results comparable with NumPy's
  % to the last digit. Every task also writes out_seconds.bin: the time its computation
  % took, measured here with tic/toc, so that process start and file transfer are not in it.
  source ('job.m');   % defines task, precision, net, n_samples and the task's settings

  % The weights: W{l} is n_in x n_out, b{l} a 1 x n_out row (so it broadcasts over rows).
  layers = numel (net.sizes) - 1;
  W = cell (1, layers);
  b = cell (1, layers);
  for l = 1:layers
    W{l} = read_array (sprintf ('W%d.bin', l), [net.sizes(l), net.sizes(l + 1)], precision);
    b{l} = read_array (sprintf ('b%d.bin', l), [1, net.sizes(l + 1)], precision);
  end
  net.alpha = cast (net.alpha, precision);  % leaky_relu's slope, in the network's precision
  X = read_array ('X.bin', [n_samples, net.sizes(1)], precision);

  switch task
    case 'predict'
      started = tic ();
      [~, A] = nn_forward (net, W, b, X);
      seconds = toc (started);
      write_array ('out_A.bin', A{end});

    case 'loss_and_grads'
      Y = read_array ('Y.bin', [n_samples, net.sizes(end)], precision);
      started = tic ();
      [loss, dW, db] = nn_loss_and_grads (net, W, b, X, Y);
      seconds = toc (started);
      write_array ('out_loss.bin', double (loss));
      write_layers ('out_dW%d.bin', 'out_db%d.bin', dW, db);

    case 'step'
      Y = read_array ('Y.bin', [n_samples, net.sizes(end)], precision);
      started = tic ();
      [W, b, loss] = nn_train_step (net, W, b, X, Y, cast (lr, precision));
      seconds = toc (started);
      write_array ('out_loss.bin', double (loss));
      write_layers ('out_W%d.bin', 'out_b%d.bin', W, b);

    case 'train'
      Y = read_array ('Y.bin', [n_samples, net.sizes(end)], precision);
      [W, b, losses, seconds] = nn_train (net, W, b, X, Y, epochs, lr, batch_size);
      write_array ('out_losses.bin', double (losses));
      write_layers ('out_W%d.bin', 'out_b%d.bin', W, b);

    case 'xor_per_row'
      Y = read_array ('Y.bin', [n_samples, net.sizes(end)], precision);
      [W{1}, b{1}, W{2}, b{2}, seconds] = xor_per_row (W{1}, b{1}, W{2}, b{2}, X, Y, ...
                                                       epochs, cast (lr, precision));
      write_layers ('out_W%d.bin', 'out_b%d.bin', W, b);

    otherwise
      error ('nnbench_main: unknown task "%s"', task);
  end
  write_array ('out_seconds.bin', seconds);
end

function M = read_array (name, shape, precision)
  % An array of `shape` from a raw file; fread fills it column by column, as Python wrote it.
  fid = fopen (name, 'r', 'ieee-le');
  if fid < 0
    error ('nnbench_main: cannot open %s', name);
  end
  [M, count] = fread (fid, shape, [precision '=>' precision]);
  fclose (fid);
  if count != prod (shape)
    error ('nnbench_main: %s holds %d numbers, expected %d', name, count, prod (shape));
  end
end

function write_array (name, M)
  % M's numbers, column by column, in M's own precision (single stays single).
  fid = fopen (name, 'w', 'ieee-le');
  fwrite (fid, M, class (M));
  fclose (fid);
end

function write_layers (W_pattern, b_pattern, W, b)
  for l = 1:numel (W)
    write_array (sprintf (W_pattern, l), W{l});
    write_array (sprintf (b_pattern, l), b{l});
  end
end
