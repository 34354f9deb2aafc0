"""The AWS figures table: every figure sourced, dated, shaped consistently; estimates labelled."""

from __future__ import annotations

import pytest

from infra.envelope.figures import FIGURES, READ_ON, figure, typical, worst


def test_every_figure_names_an_aws_page_and_the_date_read():
    for fig in FIGURES.values():
        assert fig.source.startswith(("https://", "http://")), fig.key
        assert "aws" in fig.source or "amazon" in fig.source, fig.key
        assert fig.read_on == READ_ON == "2026-11-30"
        assert fig.quote, fig.key


def test_typical_never_exceeds_worst():
    for fig in FIGURES.values():
        if fig.typical_seconds is not None and fig.worst_seconds is not None:
            assert 0 <= fig.typical_seconds <= fig.worst_seconds, fig.key


def test_published_figures_match_aws_wording():
    assert (typical("rds.multi_az_instance_failover"), worst("rds.multi_az_instance_failover")) == (60, 120)
    assert worst("rds.multi_az_cluster_failover") == 35
    assert worst("s3.rtc_replication") == 900
    assert worst("efs.replication") == 900
    assert typical("dynamodb.mrec_replication") == 1
    assert worst("dynamodb.mrsc_replication") == 0
    assert typical("backup.start_window_minimum") == 3600


def test_restore_and_launch_figures_are_labelled_estimates():
    for key in ("restore.rds", "restore.dynamodb", "restore.s3", "restore.efs", "restore.ebs",
                "ec2.launch_and_boot", "rds.read_replica_promotion", "backup.cross_region_copy"):
        assert figure(key).estimate and figure(key).label.endswith("(estimate)")


def test_a_bound_aws_does_not_publish_is_refused_not_guessed():
    with pytest.raises(ValueError, match="no worst case"):
        worst("dynamodb.mrec_replication")
    with pytest.raises(ValueError, match="no worst case"):
        worst("rds.cross_region_replica_lag")


def test_docs_envelope_lists_every_figure_with_its_source():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "envelope.md").read_text(encoding="utf-8")
    for fig in FIGURES.values():
        assert f"`{fig.key}`" in doc and fig.source in doc, fig.key
