"""Commands of the science side: ``timeseries`` (InSAR), ``census``/``review``/``vegetation``/``pv`` (the
remote-sensing census) and ``predict``/``invert``/``stability``/``damage`` (prediction), one module per group."""
