"""Document rendering without the domain: the GB/T 9704-2012 official-document engine (``gongwen``: one document
model to PDF through WeasyPrint and to DOCX through python-docx), fonts found or shipped and embedded, DOCX
helpers, charts, the card templates and the names of issuing authorities. Domain documents that read the ledgers
and build these models live in :mod:`subsidence.reports`.
"""
