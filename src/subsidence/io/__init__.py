"""File formats at the edges: vector files (:mod:`.vector`), Excel workbooks (:mod:`.excel`), format sniffing
(:mod:`.sniff`). Nothing here knows the domain rules; :mod:`subsidence.interchange.imports` does."""
