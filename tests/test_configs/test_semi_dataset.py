"""The semi-supervised data config yields sup / unsup_teacher / unsup_student batches."""
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

from tests.conftest import REPO

SEMI = REPO / 'configs/_base_/datasets/semi_synth_cxr_detection.py'


def test_semi_loader_mixes_labelled_and_unlabelled_views_with_homography(tiny_synth):
    import anomed_mmdet  # noqa: F401
    init_default_scope('mmdet')
    root, _, _ = tiny_synth
    cfg = Config.fromfile(str(SEMI))
    loader = cfg.train_dataloader
    loader.update(num_workers=0, persistent_workers=False)
    for ds in loader.dataset.datasets:
        ds.data_root = str(root) + '/'
    assert loader.sampler.type == 'MultiSourceSampler'
    assert cfg.val_dataloader.dataset.ann_file == 'annotations/val.json'  # inherited
    data = next(iter(Runner.build_dataloader(loader)))
    inputs, samples = data['inputs'], data['data_samples']
    assert set(inputs) == {'sup', 'unsup_teacher', 'unsup_student'}
    n_sup = sum(s is not None for s in samples['sup'])
    n_unsup = sum(s is not None for s in samples['unsup_student'])
    assert n_sup >= 1 and n_unsup >= 1 and n_sup + n_unsup == cfg.batch_size
    for branch in ('unsup_teacher', 'unsup_student'):
        for s in samples[branch]:
            if s is not None:
                assert s.metainfo['homography_matrix'].shape == (3, 3)
                assert len(s.gt_instances) == 0  # unlabelled: no boxes
