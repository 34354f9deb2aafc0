"""Reports rendered from measured results: one module per format, `write_reports` for all of them."""
from chaos.reports.console import print_results, quiet_line, results_table
from chaos.reports.render import FORMATS, parse_formats, write_reports
from chaos.reports.timeline import preload as preload_renderers

__all__ = ["FORMATS", "parse_formats", "preload_renderers", "print_results", "quiet_line", "results_table", "write_reports"]
