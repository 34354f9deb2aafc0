"""Reports rendered from measured results: one module per format, `write_reports` for all of them."""
from chaos.reports.console import print_results, quiet_line, results_table
from chaos.reports.render import FORMATS, parse_formats, write_reports

__all__ = ["FORMATS", "parse_formats", "print_results", "quiet_line", "results_table", "write_reports"]
