"""subsidence: coal-mining subsidence governance for a county (Ejin Horo Banner by default).

Layers (see README "Architecture"):
- ``science``   pure computation (numpy in, numpy out): PIM prediction, stability, damage.
- ``insar``     InSAR readers and the small-baseline time-series solver.
- ``monitoring``warning methods and the alarm engine.
- ``io``        file formats at the edges (vector, raster, Excel).
- ``db``/``models`` persistence (SQLAlchemy 2, SQLite or PostgreSQL/PostGIS).
- ``services``  the rules (ledger lifecycle, licence gate, imports) shared by CLI and API.
- ``cli``/``api``/``web`` thin adapters.
"""

__version__ = "0.1.0"
