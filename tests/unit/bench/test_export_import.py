"""The export-import bench point measures a real import in a fresh process (small, here)."""

from bench.export_import import markdown_lines, measure_export_import


def test_the_point_imports_every_row_and_reports_its_peak_rss() -> None:
    point = measure_export_import(rows=3_100)  # 100 rows on each of 31 days

    assert point["rows"] == 3_100 and point["file_bytes"] > 3_100 * 100
    assert 0 < point["max_rss_bytes"] < 256 * 1024 * 1024 and point["holds"]
    assert "3,100 rows" in markdown_lines(point)[-1]
