"""Analysis: compare, explain, attribute, figures, reports, studies."""
