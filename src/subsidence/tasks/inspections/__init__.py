"""Double random, one public (双随机、一公开): the verifiable draw (``draw``, pure) and the inspection service
(directories of objects and inspectors, recusal, publication of the draw, results and their publication)."""
