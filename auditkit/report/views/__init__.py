"""The view of each report section: one module per section, each a pure function of a
``results.json`` document.

A view builder reads the results and formats what its template shows (labels, numbers,
chart images); it computes no statistic. It returns None when the results have nothing for
its section, which leaves the section out of the report and its contents.
"""
