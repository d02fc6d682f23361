"""Collect every example's ``results/<name>/metrics.json`` into ``examples/RESULTS.md``.

Usage::

    python examples/results_table.py
"""

from __future__ import annotations

import json
import sys

from _common import HERE


def _f(x: float, digits: int = 3) -> str:
    return f"{x:.{digits}f}"


def section(name: str, m: dict) -> list[str]:
    figs = ", ".join(f"[{f}](results/{name}/{f})" for f in m.get("figures", []))
    if name == "karate":
        body = [f"Symmetric NMF (k = 2) on the {m['nodes']}-node, {m['edges']}-edge graph, {m['starts']} random "
                f"starts: at most {m['misassigned_max']} member(s) misassigned against the two factions "
                f"(median {m['misassigned_median']:g}; member {m['runs'][0]['members']})."]
    elif name == "samson":
        body = ["| method | SAD rock / tree / water (°) | mean SAD (°) | abundance RMSE |", "|---|---|---|---|"]
        body += [f"| {k} | {' / '.join(_f(s, 2) for s in r['sad'])} | {_f(r['mean_sad'], 2)} | {_f(r['rmse'], 4)} |"
                 for k, r in m["results"].items()]
        rs = m["random_starts"]
        body += ["", f"Over {rs['n']} random starts plain NMF's mean SAD ranges {_f(min(rs['mean_sad']), 2)}–"
                     f"{_f(max(rs['mean_sad']), 2)}° and its RMSE {_f(min(rs['rmse']), 4)}–{_f(max(rs['rmse']), 4)}."]
    elif name == "emg_synergies":
        body = ["| synergies | " + " | ".join(m["vaf"]) + " |", "|---" * (len(m["vaf"]) + 1) + "|",
                "| VAF (%) | " + " | ".join(_f(100 * v, 1) for v in m["vaf"].values()) + " |", "",
                f"Chosen: {m['chosen_k']} synergies (VAF {_f(100 * m['vaf_chosen'], 1)} %; the smallest k with "
                "VAF ≥ 90 % whose next synergy adds < 2 %)."]
    elif name == "topics":
        body = ["| corpus | loss | NMI | ARI | purity | accuracy | within / between cosine of the labels |",
                "|---|---|---|---|---|---|---|"]
        for corpus in ("tdt2", "classic3"):
            c = m[corpus]
            check = f"{_f(c['label_check']['within'])} / {_f(c['label_check']['between'])}"
            for loss in ("kullback-leibler", "frobenius"):
                s = c[loss]
                body.append(f"| {corpus} | {loss} | {_f(s['nmi'])} | {_f(s['ari'])} | {_f(s['purity'])} | "
                            f"{_f(s['accuracy'])} | {check} |")
        body += ["", "TDT2's stored class labels do not match its documents (documents of one class are no more "
                     "alike than documents of different classes), so its scores carry no meaning; its topics "
                     "are in `results/topics/tdt2_topics.txt`. First three topics: "
                 + "; ".join(" ".join(t[:6]) for t in m["tdt2"]["top_words"][:3]) + "."]
    elif name == "signatures":
        body = [f"{m['genomes']} genomes, {m['mutations']} mutations; recommended rank {m['recommended_rank']} "
                f"(stability {_f(m['stability'])}).", "",
                "| signature | NNLS decomposition into COSMIC v3.4 | cosine | bootstrap cosine, median [95 %] |",
                "|---|---|---|---|"]
        boot = m["bootstrap"]["signatures"]
        body += [f"| {s['signature']} | " + " + ".join(f"{_f(w, 2)} {n}" for n, w in s["decomposition"])
                 + f" | {_f(s['cosine'])} | {_f(b['cosine_median'], 4)} [{_f(b['cosine_low'], 4)}, "
                 f"{_f(b['cosine_high'], 4)}] |" for s, b in zip(m["signatures"], boot, strict=True)]
        body += ["", f"Genomes refitted to {', '.join(m['cosmic_used'])}: median cosine "
                     f"{_f(m['refit_cosine_median'])}. Bootstrap: {m['bootstrap']['resamples']} resamples, "
                     f"{m['bootstrap']['scheme']}, each matched to the consensus signatures."]
    elif name == "multiomics":
        body = [f"{m['patients']} patients ({m['subtyped']} with a C1A/C1B subtype), {m['genes']} genes, "
                f"{m['mirnas']} miRNAs.", "", "| k | model | ARI vs C1A/C1B | group sizes | deaths per group |",
                "|---|---|---|---|---|"]
        for k, e in m["by_k"].items():
            for lab in ("joint", "RNA only", "miRNA only"):
                d = ", ".join(_f(v, 2) for v in e[lab]["death_share_per_group"].values())
                body.append(f"| {k} | {lab} | {_f(e[lab]['ari_vs_C1A_C1B'])} | {e[lab]['group_sizes']} | {d} |")
        body += ["", "Top genes of the k = 2 shared factors: "
                 + "; ".join(", ".join(g[:6]) for g in m["by_k"]["2"]["top_genes"]) + "."]
    elif name == "lcms":
        body = [f"{m['k']} components explain {_f(m['explained'])} of the (scaled) intensities. Base peaks at a BSA "
                f"tryptic peptide ion (±0.1 Da): {_f(m['share_matching_bsa'], 2)} of the components, against "
                f"{_f(m['baseline_share_most_intense_bins'], 2)} of the data's {m['k']} most intense bins.", "",
                "| apex RT (min) | base peak m/z | BSA peptide ion |", "|---|---|---|"]
        body += [f"| {_f(c['apex_rt_min'], 2)} | {_f(c['base_peak_mz'], 2)} | {'yes' if c['bsa_peptide_ion'] else ''} |"
                 for c in m["components"]]
        mix = m["mixture"]
        body += ["", f"Known mixtures of {len(mix['spectrum_cosine'])} real spectra (scans at RT "
                     f"{', '.join(_f(t, 1) for t in mix['spectra_rt_min'])} min; indicator-peak purity "
                     f"{', '.join(_f(p, 2) for p in mix['indicator_purity'])}), {mix['samples']} samples of "
                     f"{mix['ions_per_sample']:.0e} Poisson ions each: spectra recovered at matched cosine "
                     f"{', '.join(_f(c, 4) for c in mix['spectrum_cosine'])}; proportions mean absolute error "
                     f"{_f(mix['proportion_mae'], 4)} (largest {_f(mix['proportion_max_error'], 4)})."]
    elif name == "gene_programs":
        body = [f"{m['cells']} cells x {m['genes']} genes, k = {m['k']}, KL on the sparse counts.", "",
                "| fit | KL per count | median usage sparseness | cells with a dominant program |", "|---|---|---|---|"]
        body += [f"| {lab} | {_f(f['kl_per_count'], 4)} | {_f(f['usage_sparseness_median'])} | "
                 f"{_f(f['dominant_share'], 2)} |" for lab, f in m["fits"].items()]
        body += ["", "Top genes (sparse fit): " + "; ".join(
            f"{i + 1}: " + " ".join(t[:5]) for i, t in enumerate(m["fits"]["sparse usages"]["top_genes"])) + "."]
    elif name == "stains":
        body = ["Angles (degrees) between each method's haematoxylin / eosin vectors and the Macenko method's "
                "(and Ruifrok & Johnston's standard vectors); references, not ground truth.", "",
                "| image | method | H vs Macenko | E vs Macenko | H vs Ruifrok | E vs Ruifrok |",
                "|---|---|---|---|---|---|"]
        for image, e in m["images"].items():
            for lab in ("NMF", "sparse NMF", "separable NMF (SNPA)"):
                a, r = e[lab]["angle_to_macenko"], e[lab]["angle_to_ruifrok"]
                body.append(f"| {image.split('.')[0]} | {lab} | {_f(a[0], 1)} | {_f(a[1], 1)} | {_f(r[0], 1)} | "
                            f"{_f(r[1], 1)} |")
            mr = e["macenko_angle_to_ruifrok"]
            body.append(f"| {image.split('.')[0]} | Macenko | 0 | 0 | {_f(mr[0], 1)} | {_f(mr[1], 1)} |")
        body += ["", "No variant agrees with Macenko's vectors on every image: plain NMF of optical densities is not "
                     "unique here (the stains' cone is wide), so estimates from the extreme pixels (Macenko, or "
                     "SNPA) are the usual choice, and the plain-NMF maps should be read with that in mind."]
    else:
        body = ["```", json.dumps({k: v for k, v in m.items() if k != "figures"}, indent=1)[:2000], "```"]
    return [f"## {name}", "", *body, "", f"Figures: {figs}", ""]


def main() -> int:
    lines = ["# Worked applications: results", "",
             "Each script in `examples/` writes `results/<name>/metrics.json` and its figures; this file is made "
             "from them by `python examples/results_table.py`. Run a script with `--fast` for the quick version the "
             "test suite checks.", ""]
    for path in sorted((HERE / "results").glob("*/metrics.json")):
        lines += section(path.parent.name, json.loads(path.read_text()))
    (HERE / "RESULTS.md").write_text("\n".join(lines))
    print(f"wrote {HERE / 'RESULTS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
