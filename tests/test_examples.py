"""The worked applications in examples/ run end to end in their fast form and meet their claims."""

import importlib
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run_example(name, tmp_path, data_dir):
    pytest.importorskip("matplotlib", reason="matplotlib is missing: pip install '.[plot]'")
    sys.path.insert(0, str(EXAMPLES))
    try:
        module = importlib.import_module(name)
        metrics = module.main(["--fast", "--out", str(tmp_path), "--data-dir", str(data_dir)])
    finally:
        sys.path.remove(str(EXAMPLES))
    assert (tmp_path / "metrics.json").is_file()
    for fig in metrics.get("figures", []):
        assert (tmp_path / fig).stat().st_size > 1000
    return metrics


def test_karate(tmp_path, data_dir):
    metrics = run_example("karate", tmp_path, data_dir)
    assert metrics["misassigned_max"] <= 2


def test_signatures(tmp_path, data_dir):
    metrics = run_example("signatures", tmp_path, data_dir)
    names = {n for s in metrics["signatures"] for n, _ in s["decomposition"]}
    assert {"SBS2", "SBS13", "SBS3"} <= names  # APOBEC and homologous-recombination deficiency
    assert min(s["cosine"] for s in metrics["signatures"]) > 0.9
    assert metrics["refit_cosine_median"] > 0.9
    boot = metrics["bootstrap"]["signatures"]
    assert len(boot) == metrics["recommended_rank"]
    for b in boot:  # every signature comes back in the resampled catalogues (SigProfiler's stability)
        assert 0.9 < b["cosine_low"] <= b["cosine_median"] <= b["cosine_high"] <= 1.0 + 1e-12


def test_emg_synergies(tmp_path, data_dir):
    metrics = run_example("emg_synergies", tmp_path, data_dir)
    vaf = list(metrics["vaf"].values())
    assert all(b >= a - 1e-6 for a, b in zip(vaf, vaf[1:], strict=False))  # more synergies never fit worse
    assert vaf[-1] > 0.999  # k = number of channels reproduces the data
    assert 2 <= metrics["chosen_k"] <= 5 and metrics["vaf_chosen"] >= 0.9


def test_topics(tmp_path, data_dir):
    metrics = run_example("topics", tmp_path, data_dir)
    assert metrics["classic3"]["frobenius"]["nmi"] > 0.5
    c, t = metrics["classic3"]["label_check"], metrics["tdt2"]["label_check"]
    assert c["within"] > 3 * c["between"]  # Classic3's labels fit its documents
    assert t["within"] < 1.5 * t["between"]  # TDT2's stored labels do not
    assert len(metrics["tdt2"]["top_words"][0]) == 10


def test_samson(tmp_path, data_dir):
    metrics = run_example("samson", tmp_path, data_dir)
    r = metrics["results"]
    sep = r["separable NMF (SNPA)"]
    for plain in ("NMF (NNDSVDa)", "NMF (best of random starts)"):
        assert sep["mean_sad"] < r[plain]["mean_sad"]
        assert sep["rmse"] < r[plain]["rmse"]
    assert sep["mean_sad"] < 6.0


def test_gene_programs(tmp_path, data_dir):
    metrics = run_example("gene_programs", tmp_path, data_dir)
    plain, sparse = metrics["fits"]["plain"], metrics["fits"]["sparse usages"]
    assert sparse["usage_sparseness_median"] > plain["usage_sparseness_median"] + 0.05
    assert sparse["kl_per_count"] < 1.02 * plain["kl_per_count"]  # sparser at almost no cost in fit
    assert all(len(t) == 10 for t in sparse["top_genes"])


def test_multiomics(tmp_path, data_dir):
    metrics = run_example("multiomics", tmp_path, data_dir)
    joint = metrics["by_k"]["2"]["joint"]
    assert joint["ari_vs_C1A_C1B"] > 0.3
    deaths = sorted(joint["death_share_per_group"].values())
    assert deaths[-1] - deaths[0] > 0.25  # the shared factors separate patients by outcome


def test_lcms(tmp_path, data_dir):
    metrics = run_example("lcms", tmp_path, data_dir)
    assert metrics["share_matching_bsa"] > metrics["baseline_share_most_intense_bins"]
    assert metrics["share_matching_bsa"] >= 0.25
    assert metrics["explained"] > 0.7
    mix = metrics["mixture"]  # known mixtures of 4 real spectra, Poisson ion counts
    assert min(mix["spectrum_cosine"]) > 0.99
    assert mix["proportion_mae"] < 0.02


def test_stains(tmp_path, data_dir):
    import numpy as np

    metrics = run_example("stains", tmp_path, data_dir)
    for entry in metrics["images"].values():
        for lab in ("NMF", "sparse NMF", "separable NMF (SNPA)"):
            S = np.asarray(entry[lab]["stain_vectors"])
            assert S.shape == (2, 3) and S.min() >= 0
            np.testing.assert_allclose(np.linalg.norm(S, axis=1), 1.0)
            assert all(0 <= a <= 90 for a in entry[lab]["angle_to_macenko"])
