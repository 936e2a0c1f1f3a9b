"""Documents: PDF (WeasyPrint, CJK font embedded), DOCX and Excel outputs."""
