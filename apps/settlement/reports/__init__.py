"""Finance reports: each is a header and a stream of rows, written as CSV or XLSX (and the
statement also as PDF) without holding the rows in memory."""
