"""Double random, one public (双随机、一公开): the pure, verifiable draw procedure (:mod:`.draw`)."""
