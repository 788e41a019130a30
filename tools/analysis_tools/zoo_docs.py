"""Generate docs/model_zoo.md from the model index.

    python tools/analysis_tools/zoo_docs.py [--figures] [--check]
        [--out docs/model_zoo.md] [--measured docs/model_zoo/reference_cpu.csv]

The page: one table per publisher (OpenMMLab-trained configs, pycls,
torchvision V1/V2/SWAG, timm, SEER when the index has it, any other) with
params, GFLOPs (multiply-adds at the entry's input size), input size and
published top-1/top-5; the detectors with their box/mask AP; the paper's
view (published top-1 against GFLOPs, every classifier that has one); and
the measured view, from a ``zoo_benchmark.py`` results.csv kept beside the
page (``--measured``): its Pareto front per precision and figure.

``--figures`` also redraws ``docs/model_zoo/top1_vs_gflops.png/.svg`` and
``pareto_cpu.png/.svg`` (needs matplotlib). ``--check`` writes nothing and
exits 1 if the page on disk differs from what the index gives now.
"""
import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path
from typing import Dict, List, Optional

from mmregnet.engine import atomic_write
from mmregnet.zoo import (OPENMMLAB, SEER, ZooEntry, measured_front,
                          significant, zoo_entries)
from mmregnet.zoo_figures import where

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / 'docs' / 'model_zoo.md'
FIGURES = 'model_zoo'  # beside the page
MEASURED = ROOT / 'docs' / FIGURES / 'reference_cpu.csv'
#: the order of the publishers' tables; others follow, by name
ORDER = (OPENMMLAB, 'pycls', 'torchvision', 'timm', SEER)
INTRO = {
    OPENMMLAB: 'This project\'s configs (`configs/*.py`); accuracies are '
    'OpenMMLab\'s published checkpoints (`metafile.yml`), "—" where none was '
    'published (train one, or take the converted weights of the same arch).',
    'pycls': 'The paper\'s own weights (facebookresearch/pycls), converted '
    '(`configs/converted/metafile.yml`).',
    'torchvision': 'torchvision\'s weights: V1 (the paper\'s recipe), V2 '
    '(torchvision\'s longer recipe), SWAG (weakly supervised on Instagram, '
    'then fine-tuned end to end at 384 px, or a linear classifier at 224).',
    'timm': 'timm\'s weights: `timm-pycls` (pycls\' weights as timm hosts '
    'them) and timm\'s own recipes (`ra`, `ra3`, `sw-in12k-ft`, ...).',
    SEER: 'SEER: self-supervised on a billion Instagram images (VISSL), '
    'the trunks and their ImageNet fine-tunes, whoever hosts the files.',
}


def _num(value: Optional[float], digits: int = 2) -> str:
    return '—' if value is None else f'{value:.{digits}f}'


def classifier_table(entries: List[ZooEntry]) -> List[str]:
    rows = ['| model | weights | params (M) | GFLOPs | input | top-1 | top-5 '
            '|', '| --- | --- | ---: | ---: | ---: | ---: | ---: |']
    for e in sorted(entries, key=lambda e: (e.family, e.gflops or 0,
                                            e.name)):
        rows.append(
            f'| `{e.name}` | {e.weights or "—"} | '
            f'{_num(e.params / 1e6 if e.params else None)} | '
            f'{_num(e.gflops)} | {e.input_size} | {_num(e.top1, 3)} | '
            f'{_num(e.top5, 3)} |')
    return rows


def detector_table(entries: List[ZooEntry]) -> List[str]:
    rows = ['| model | detector | backbone | box AP | mask AP |',
            '| --- | --- | --- | ---: | ---: |']
    for e in sorted(entries, key=lambda e: (e.detector, e.name)):
        rows.append(f'| `{e.name}` | {e.detector.replace(" (RegNet)", "")} '
                    f'| {e.arch} | {_num(e.box_ap, 1)} | '
                    f'{_num(e.mask_ap, 1)} |')
    return rows


def read_measured(path: Path) -> List[Dict[str, str]]:
    if not path.exists():
        return []
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def measured_section(rows: List[Dict[str, str]], csv_path: Path) -> List[str]:
    """The reference CPU's run: what was measured (the note kept beside
    the CSV, ``<csv stem>.md``, says how and under what load), its Pareto
    front per precision and the figure."""
    if not rows:
        return ['No reference run is kept beside this page yet.', '']
    note = csv_path.with_suffix('.md')
    precisions = list(dict.fromkeys(r['precision'] for r in rows))
    lines = [
        f'Measured by `tools/analysis_tools/zoo_benchmark.py` on '
        f'{where(rows[0])}: {len({r["name"] for r in rows})} entries, random '
        f'weights in deploy mode. Every row: [`{FIGURES}/{csv_path.name}`]'
        f'({FIGURES}/{csv_path.name}). Measure your own machine with '
        '`python tools/analysis_tools/zoo_benchmark.py --out DIR`.', '']
    if note.exists():
        lines += [note.read_text().strip(), '']
    lines += [f'![Published top-1 against measured latency]({FIGURES}/'
              'pareto_cpu.png)', '']
    for precision in precisions:
        batch, _, front = measured_front(rows, precision)
        mine = {r['name']: r for r in rows if r['precision'] == precision
                and int(r['batch']) == batch}
        lines += [f'Pareto front, {precision}, batch {batch}:', '',
                  '| model | top-1 | ms/image | images/s | % of GEMM rate |',
                  '| --- | ---: | ---: | ---: | ---: |']
        lines += [f'| `{n}` | {mine[n]["top1"]} | '
                  f'{significant(float(mine[n]["ms_per_image"]))} | '
                  f'{significant(float(mine[n]["images_per_s"]))} | '
                  f'{mine[n]["pct_of_gemm"]} |' for n in front]
        lines.append('')
    return lines


def page(entries: List[ZooEntry], measured: List[Dict[str, str]],
         csv_path: Path) -> str:
    classifiers = [e for e in entries if not e.detector]
    detectors = [e for e in entries if e.detector]
    groups = defaultdict(list)
    for e in classifiers:
        groups[e.publisher].append(e)
    order = [p for p in ORDER if p in groups] + sorted(set(groups) -
                                                       set(ORDER))
    with_top1 = sum(e.top1 is not None for e in classifiers)
    lines = [
        '# Model zoo',
        '',
        '<!-- Generated by tools/analysis_tools/zoo_docs.py from the model '
        'index; do not edit by hand (tests/test_zoo_docs.py checks it). -->',
        '',
        f'{len(entries)} entries: {len(classifiers)} ImageNet-1k '
        f'classifiers ({with_top1} with a published top-1) and '
        f'{len(detectors)} COCO detectors. Accuracies are the publishers\' '
        'own (not measured by mmregnet); params and GFLOPs (giga '
        'multiply-adds, as in the paper) are analytic, at each entry\'s '
        'input size. Build any of them with `mmregnet.get_model(name)`.',
        '',
        '## Accuracy against cost',
        '',
        'The paper\'s view: published top-1 against GFLOPs, every classifier '
        'with a published top-1 (the line: the Pareto front).',
        '',
        f'![Published top-1 against GFLOPs]({FIGURES}/top1_vs_gflops.png)',
        '',
        '### Measured on the reference CPU',
        '',
    ] + measured_section(measured, csv_path)
    for publisher in order:
        lines += [f'## {publisher}', '']
        if publisher in INTRO:
            lines += [INTRO[publisher], '']
        lines += classifier_table(groups[publisher]) + ['']
    lines += ['## Detectors (COCO)', '',
              'mmdet\'s published box / mask AP for the RegNetX recipes '
              '(`configs/mmdet/metafile.yml`); "—": no published result.', '']
    lines += detector_table(detectors) + ['']
    return '\n'.join(lines)


def draw_figures(entries: List[ZooEntry], measured: List[Dict[str, str]],
                 folder: Path) -> List[str]:
    from mmregnet.zoo_figures import Point, draw, pareto_figure, short_label
    folder.mkdir(parents=True, exist_ok=True)
    points = [Point(short_label(e.arch, e.weights, e.input_size),
                    e.publisher, e.gflops, e.top1)
              for e in entries if e.top1 is not None and e.gflops]
    paths = draw({'ImageNet-1k classifiers': points},
                 'GFLOPs, multiply-adds per image (log scale)',
                 'published ImageNet top-1 (%)',
                 'mmregnet model index: published top-1 against GFLOPs',
                 str(folder / 'top1_vs_gflops'))
    if measured:
        paths += pareto_figure(measured, str(folder / 'pareto_cpu'),
                               note=', cores shared')
    return paths


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--out', default=str(PAGE))
    parser.add_argument('--measured', default=str(MEASURED),
                        help='a zoo_benchmark.py results.csv (beside the '
                        'page, in its figures folder)')
    parser.add_argument('--figures', action='store_true',
                        help='also redraw the figures (matplotlib)')
    parser.add_argument('--check', action='store_true',
                        help='exit 1 if --out is not what the index gives')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    entries = zoo_entries()
    measured = read_measured(Path(args.measured))
    text = page(entries, measured, Path(args.measured))
    out = Path(args.out)
    if args.check:
        current = out.read_text() if out.exists() else ''
        if current != text:
            sys.exit(f'{out} is stale: regenerate it with python '
                     'tools/analysis_tools/zoo_docs.py')
        print(f'{out} is up to date')
        return
    atomic_write(text, str(out))
    print(f'wrote {out}')
    if args.figures:
        for path in draw_figures(entries, measured, out.parent / FIGURES):
            print(f'wrote {path}')


if __name__ == '__main__':
    main()
