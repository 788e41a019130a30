"""``get_model('hf-hub:<repo id>', pretrained=True)``: a transformers RegNet
of the Hugging Face Hub, fetched with huggingface_hub from a local server
playing ``HF_ENDPOINT`` (127.0.0.1, started and stopped here), converted
and cached; then, the server gone and ``HF_HUB_OFFLINE=1``, from mmregnet's
cache, and converted again from the Hub's cache alone; a repo neither
served nor cached is a one-line error. The SEER entries of the model index
that are Hub repos (facebook/regnet-y-*-seer, -seer-in1k) resolve as
``mmregnet://<name>`` the same way, each repo played by a tiny stand-in in
its layout. Each step runs in a fresh interpreter (huggingface_hub reads its
environment when imported)."""
import contextlib
import hashlib
import http.server
import json
import re
import threading
import urllib.parse
from functools import partial
from pathlib import Path

import pytest
import torch

from mmregnet.design import complexity
from mmregnet.model_index import load_model_index, original_of
from tests.helpers import run_python
from tests.transformers_env import STAND_IN_ARCH, exported_random_model

REPO = 'acme/regnet-y-tiny'
SEER_REPOS = {
    name: original_of(meta)
    for name, meta in load_model_index().items()
    if original_of(meta) and original_of(meta).hub_repo
}
COMMIT = 'c0ffee' * 6 + 'c0de'
TOLERANCE = 1e-5


class HubHandler(http.server.BaseHTTPRequestHandler):
    """``/<repo>/resolve/<revision>/<file>`` of the folders in ``repos``,
    with the headers huggingface_hub reads (commit, etag, size)."""

    def __init__(self, *args, repos, requests, **kwargs):
        self.repos, self.requests = repos, requests
        super().__init__(*args, **kwargs)

    def do_HEAD(self):
        self.answer(body=False)

    def do_GET(self):
        self.answer(body=True)

    def answer(self, body: bool):
        path = urllib.parse.urlsplit(self.path).path
        self.requests.append(path)
        match = re.fullmatch(r'/(\w+/[\w.-]+)/resolve/([^/]+)/(.+)', path)
        folder = match and self.repos.get(match[1])
        file = folder and Path(folder) / match[3]
        if not file or not file.is_file():
            self.send_response(404)
            self.send_header('X-Error-Code', 'EntryNotFound')
            self.send_header('Content-Length', '0')
            self.end_headers()
            return
        data = file.read_bytes()
        self.send_response(200)
        self.send_header('Content-Length', str(len(data)))
        self.send_header('ETag', f'"{hashlib.sha256(data).hexdigest()}"')
        self.send_header('X-Repo-Commit', COMMIT)
        self.end_headers()
        if body:
            self.wfile.write(data)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def hub(repos: dict, requests: list):
    handler = partial(HubHandler, repos=repos, requests=requests)
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f'http://127.0.0.1:{server.server_address[1]}'
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def logits_of_hub_model(tmp_path, monkeypatch, **env) -> torch.Tensor:
    """``get_model('hf-hub:...', pretrained=True)``'s logits on the fixed
    input, in a fresh interpreter with ``env``."""
    out = tmp_path / 'logits.pt'
    with monkeypatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        run_python(f"""
            import torch
            import mmregnet
            from tests.hf_side import fixed_input
            model = mmregnet.get_model('hf-hub:{REPO}', pretrained=True)
            with torch.no_grad():
                torch.save(model.eval()(fixed_input(), mode='tensor'),
                           {str(out)!r})
        """)
    return torch.load(out, weights_only=True)


@pytest.fixture
def published(tmp_path):
    """A random RegNetY of 5 classes as a transformers repo folder, and its
    logits."""
    return exported_random_model(tmp_path)


@pytest.mark.slow
def test_hub_repo_is_fetched_converted_cached_and_read_offline(
        published, tmp_path, monkeypatch):
    folder, expected = published
    monkeypatch.setenv('HF_HOME', str(tmp_path / 'hf'))
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    requests = []
    with hub({REPO: folder}, requests) as endpoint:
        logits = logits_of_hub_model(tmp_path, monkeypatch,
                                     HF_ENDPOINT=endpoint)
    torch.testing.assert_close(logits, expected, rtol=0, atol=TOLERANCE)
    assert f'/{REPO}/resolve/main/model.safetensors' in requests
    assert not any('pytorch_model' in path for path in requests)
    cached = tmp_path / 'torch/hub/checkpoints/mmregnet/hf-hub'
    assert sorted(p.name for p in cached.iterdir()) == [
        'acme--regnet-y-tiny.pth', 'acme--regnet-y-tiny.py'
    ]
    converted = torch.load(cached / 'acme--regnet-y-tiny.pth',
                           weights_only=True)['state_dict']
    # no server: mmregnet's cache, then huggingface_hub's cache alone
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    monkeypatch.setenv('HF_ENDPOINT', 'http://127.0.0.1:9')
    out = run_python(f"""
        import os
        from mmregnet.engine import CheckpointError
        from mmregnet.weights import fetch_hf
        config, checkpoint = fetch_hf('{REPO}')
        assert checkpoint == {str(cached / 'acme--regnet-y-tiny.pth')!r}
        os.remove(checkpoint)
        assert fetch_hf('{REPO}') == (config, checkpoint)
        try:  # a repo neither served nor cached
            fetch_hf('acme/none')
        except CheckpointError as error:
            print(error)
    """)
    assert out == ('hf-hub:acme/none: the Hub repo acme/none has no '
                   'config.json, or none is reachable (offline and not '
                   'cached)\n')
    again = torch.load(cached / 'acme--regnet-y-tiny.pth',
                       weights_only=True)['state_dict']
    assert again.keys() == converted.keys()
    assert all(torch.equal(again[key], converted[key]) for key in converted)


def shard(folder: Path, shards: int) -> None:
    """Rewrite a saved model's ``model.safetensors`` as ``shards``
    ``pytorch_model-0000i-of-0000n.bin`` files and their index, as
    facebook/regnet-y-10b-seer and -seer-in1k keep their weights."""
    from safetensors.torch import load_file
    tensors = load_file(folder / 'model.safetensors')
    (folder / 'model.safetensors').unlink()
    keys, weight_map = sorted(tensors), {}
    for i in range(shards):
        name = f'pytorch_model-{i + 1:05d}-of-{shards:05d}.bin'
        part = keys[i::shards]
        torch.save({key: tensors[key] for key in part}, folder / name)
        weight_map.update(dict.fromkeys(part, name))
    (folder / 'pytorch_model.bin.index.json').write_text(
        json.dumps(dict(metadata={}, weight_map=weight_map)))


@pytest.mark.slow
def test_seer_hub_entries_resolve_as_mmregnet_locations(
        tmp_path, monkeypatch):
    """Every Hub-repo entry: fetched with huggingface_hub, converted with a
    head exactly where the entry has one (a trunk with none), cached under
    its name. Each entry's parameter count is its stand-in's here."""
    assert sorted(original.hub_repo for original in SEER_REPOS.values()) == \
        sorted(f'facebook/regnet-y-{size}-seer{tuned}'
               for size in ('320', '640', '1280', '10b')
               for tuned in ('', '-in1k'))
    repos, expected, params = {}, {}, {}
    for name, original in SEER_REPOS.items():
        folder, _ = exported_random_model(
            tmp_path / name, head=not original.backbone_only)
        if '10b' in name:
            shard(folder, 2)
        repos[original.hub_repo] = folder
        expected[name] = torch.load(
            tmp_path / name / 'ours.pth', weights_only=True)['state_dict']
        # a trunk's entry counts its config's fresh 1000-class head
        params[name] = complexity(
            STAND_IN_ARCH,
            num_classes=1000 if original.backbone_only else 5).params
    monkeypatch.setenv('HF_HOME', str(tmp_path / 'hf'))
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch'))
    out, requests = tmp_path / 'resolved.pt', []
    with hub(repos, requests) as endpoint:
        monkeypatch.setenv('HF_ENDPOINT', endpoint)
        run_python(f"""
            import torch
            from mmengine.runner import CheckpointLoader
            from mmregnet.model_index import load_model_index
            import mmregnet.engine  # installs mmregnet:// in CheckpointLoader
            index = load_model_index()
            resolved = {{}}
            for name, params in {params!r}.items():
                index[name].metadata.parameters = params
                resolved[name] = CheckpointLoader.load_checkpoint(
                    'mmregnet://' + name)
            torch.save(resolved, {str(out)!r})
        """)
    resolved = torch.load(out, weights_only=True)
    for name, original in SEER_REPOS.items():
        meta, state = resolved[name]['meta'], resolved[name]['state_dict']
        assert meta['backbone_only'] is original.backbone_only, name
        assert meta['converted_from']['checkpoint'] == original.url
        assert state.keys() == expected[name].keys(), name
        assert all(torch.equal(state[key], value)
                   for key, value in expected[name].items()), name
    assert '/facebook/regnet-y-10b-seer/resolve/main/' \
        'pytorch_model-00002-of-00002.bin' in requests
    cached = tmp_path / 'torch/hub/checkpoints/mmregnet'
    assert sorted(p.name for p in cached.iterdir()) == sorted(
        f'{name}.pth' for name in SEER_REPOS)
    # offline, nothing cached: one line that names the ways round
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'empty'))
    monkeypatch.setenv('HF_HOME', str(tmp_path / 'hf-empty'))
    out = run_python("""
        from mmregnet.engine import CheckpointError
        from mmregnet.weights import fetch
        try:
            fetch('regnety-10b_3rdparty-hf-seer_ig1b')
        except CheckpointError as error:
            print(error)
    """)
    assert out == (
        'hf-hub:facebook/regnet-y-10b-seer: the Hub repo '
        'facebook/regnet-y-10b-seer has no config.json, or none is '
        'reachable (offline and not cached). Without network, set '
        'HF_ENDPOINT to a Hub mirror, or HF_HUB_OFFLINE=1 with the repo in '
        'the Hugging Face cache, or convert it: python tools/'
        'model_converters/hf2mmregnet.py facebook/regnet-y-10b-seer DST.pth'
        ', then use pretrained=DST.pth\n')
    assert list((tmp_path / 'empty/hub/checkpoints/mmregnet').iterdir()) \
        == []
