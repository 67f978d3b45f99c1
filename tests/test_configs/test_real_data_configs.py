"""Real-data configs (VinDr-CXR 5 / 14 classes, TBX11K: AnoMed and the supervised SIB-FA
baselines) and the fine-tuning recipe: data layout, class counts, ImageNet init kept; models
build with init_cfg removed (nothing downloaded); the CPU fine-tune config loads a teacher
extracted from a checkpoint with another class count and trains."""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from anomed_mmdet.apis import extract_detector, inference_config
from tests.conftest import REPO
from tests.inference_helpers import SEMI_CFG, semi_checkpoint

VINDR5 = ('Aortic enlargement', 'Calcification', 'Cardiomegaly', 'Pulmonary fibrosis', 'Nodule/Mass')
VINDR14 = ('Aortic enlargement', 'Atelectasis', 'Calcification', 'Cardiomegaly', 'Consolidation', 'ILD',
           'Infiltration', 'Lung Opacity', 'Nodule/Mass', 'Other lesion', 'Pleural effusion',
           'Pleural thickening', 'Pneumothorax', 'Pulmonary fibrosis')
TBX = ('ActiveTuberculosis', 'ObsoletePulmonaryTuberculosis')
# name -> (classes, data_root, annotation folder, train image prefix, test json, test image prefix)
DATASETS = {
    # the VinDr converter's file_name is <split>/<image_id>.png under images/
    'vindr-cxr': (VINDR5, 'data/vindr_cxr/', 'annotations/', 'images/', 'test.json', 'images/'),
    'vindr-cxr14': (VINDR14, 'data/vindr_cxr/', 'annotations/all14/', 'images/', 'test.json', 'images/'),
    'tbx11k': (TBX, 'data/tbx11k/', 'annotations/coco/', 'imgs/', 'val.json', 'imgs/'),
}
SEMI = {name: f'configs/anomed/anomed_faster-rcnn_r50_sib-fa_40k_semi-0.1-{name}.py' for name in DATASETS}
SUP = {name: f'configs/sib/faster-rcnn_r50_sib-fa_20k_{name}-10pct.py' for name in DATASETS}
FT_CPU = REPO / 'configs/finetune/faster-rcnn_r18-slim_sib-fa_cpu-0.5k-ft_coco-xray.py'
FT_R50 = REPO / 'configs/finetune/faster-rcnn_r50_sib-fa_6k-ft_coco-xray.py'


def check_eval_data(cfg, name):
    classes, root, ann, _, test_json, test_img = DATASETS[name]
    for loader, evaluator in ((cfg.val_dataloader, cfg.val_evaluator), (cfg.test_dataloader, cfg.test_evaluator)):
        ds = loader.dataset
        assert (ds.type, ds.data_root, ds.ann_file) == ('CheckedCocoDataset', root, ann + test_json)
        assert ds.data_prefix.img == test_img and tuple(ds.metainfo.classes) == classes
        coco = evaluator[0] if isinstance(evaluator, list) else evaluator  # test: [COCO, VOC@0.4, FROC]
        assert coco.type == 'CocoMetric' and coco.ann_file == root + ann + test_json


@pytest.mark.parametrize('name', sorted(DATASETS))
def test_anomed_config_matches_the_converter_layout(name):
    cfg = Config.fromfile(str(REPO / SEMI[name]))
    classes, root, ann, img, _, _ = DATASETS[name]
    assert cfg.model.type == 'AnoMed' and cfg.model.detector.roi_head.bbox_head.num_classes == len(classes)
    assert cfg.model.detector.backbone.init_cfg == dict(type='Pretrained', checkpoint='torchvision://resnet50')
    lab, unlab = cfg.train_dataloader.dataset.datasets
    assert lab.ann_file == f'{ann}train.{cfg.fold}@{cfg.percent}.json'
    assert unlab.ann_file == f'{ann}train.{cfg.fold}@{cfg.percent}-unlabeled.json'
    for ds in (lab, unlab):
        assert (ds.data_root, ds.data_prefix.img, tuple(ds.metainfo.classes)) == (root, img, classes)
    assert lab.pipeline[-1].type == 'MultiBranch' and unlab.pipeline[-1].type == 'MultiBranch'
    check_eval_data(cfg, name)
    assert 'detector' not in cfg  # no stale 80-class copy of the detector


@pytest.mark.parametrize('name', sorted(DATASETS))
def test_supervised_baseline_sees_the_labelled_split(name):
    cfg, semi = Config.fromfile(str(REPO / SUP[name])), Config.fromfile(str(REPO / SEMI[name]))
    classes = DATASETS[name][0]
    assert cfg.model.type == 'FasterRCNN' and cfg.model.roi_head.bbox_head.num_classes == len(classes)
    assert [n.type for n in cfg.model.neck] == ['SIB', 'FA']
    assert cfg.model.backbone.init_cfg.type == 'Pretrained'
    ds, lab = cfg.train_dataloader.dataset, semi.train_dataloader.dataset.datasets[0]
    assert (ds.ann_file, ds.data_prefix, ds.metainfo) == (lab.ann_file, lab.data_prefix, lab.metainfo)
    assert [t.type for t in ds.pipeline[:-1]] == [t.type for t in lab.pipeline[:-1]]
    assert ds.pipeline[-1].type == 'PackDetInputs'
    check_eval_data(cfg, name)


def test_the_short_alias_is_the_5_class_config():
    alias = Config.fromfile(str(REPO / 'configs/anomed_vindr.py'))
    assert alias.model == Config.fromfile(str(REPO / SEMI['vindr-cxr'])).model


@pytest.mark.parametrize('path', [SEMI['vindr-cxr14'], SUP['tbx11k'], FT_R50], ids=lambda p: str(p).split('/')[-1])
def test_paper_scale_models_build_without_downloads(path):
    cfg = Config.fromfile(str(REPO / path))
    from mmdet.registry import MODELS
    init_default_scope('mmdet')
    model_cfg = inference_config(cfg).model  # the plain detector, init_cfg removed
    assert model_cfg.backbone.init_cfg is None
    model = MODELS.build(model_cfg)
    classes = cfg.test_dataloader.dataset.metainfo.classes
    assert model.roi_head.bbox_head.fc_cls.out_features == len(classes) + 1
    if cfg.model.type == 'AnoMed':
        cfg.model.detector.backbone.init_cfg = None
        semi = MODELS.build(cfg.model)
        assert semi.plo.num_classes == len(classes)


def test_finetune_configs_start_from_a_checkpoint_not_imagenet():
    for path in (FT_CPU, FT_R50):
        cfg = Config.fromfile(str(path))
        assert cfg.load_from.endswith('_teacher.pth') and cfg.model.backbone.init_cfg is None
        assert cfg.model.roi_head.bbox_head.num_classes == len(cfg.classes)
        for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
            assert loader.dataset.type == 'CheckedCocoDataset' and loader.dataset.data_root == cfg.data_root
            assert loader.dataset.metainfo.classes == cfg.classes


def test_loading_a_teacher_student_checkpoint_directly_loads_nothing(tmp_path):
    """Why extract_teacher exists: load_from with teacher.* keys matches no parameter."""
    from mmengine.runner.checkpoint import _load_checkpoint_to_model
    from tests.inference_helpers import PLAIN_CFG, build_model
    model, ckpt = semi_checkpoint(tmp_path)
    plain = build_model(PLAIN_CFG, seed=5)
    before = {k: v.clone() for k, v in plain.state_dict().items()}
    _load_checkpoint_to_model(plain, torch.load(str(ckpt)), strict=False)
    assert all(torch.equal(v, before[k]) for k, v in plain.state_dict().items())


def test_cpu_finetune_loads_a_teacher_with_another_class_count_and_trains(tiny_synth, tmp_path, capsys):
    """5-class AnoMed teacher -> 2-class fine-tune: mmengine skips fc_cls / fc_reg (printed
    size-mismatch warning), they keep their fresh initialisation; everything else is loaded."""
    from mmengine.runner import Runner

    root, _, _ = tiny_synth
    _, ckpt = semi_checkpoint(tmp_path)
    _, teacher_pth = extract_detector(SEMI_CFG, ckpt, tmp_path / 'teacher')
    cfg = Config.fromfile(str(FT_CPU))
    classes, data_root = ('nodule', 'mass'), str(root) + '/'
    small = [dict(t, scale=(128, 128)) if t['type'] == 'Resize' else t for t in cfg.train_dataloader.dataset.pipeline]
    cfg.train_dataloader.update(batch_size=1, num_workers=0, persistent_workers=False)
    cfg.train_dataloader.dataset.update(data_root=data_root, metainfo=dict(classes=classes), pipeline=small)
    cfg.model.roi_head.bbox_head.num_classes = len(classes)
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2, val_interval=100)
    cfg.param_scheduler = []
    cfg.optim_wrapper.optimizer.lr = 0.0  # weights stay as loaded: compare them afterwards
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=100)
    cfg.default_hooks.logger.interval = 1
    cfg.visualizer.vis_backends = [dict(type='LocalVisBackend')]
    cfg.load_from, cfg.work_dir = str(teacher_pth), str(tmp_path / 'work')
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2 and torch.isfinite(torch.tensor(runner.message_hub.get_scalar('train/loss').current()))

    out = capsys.readouterr().out
    for key in ('fc_cls.weight', 'fc_cls.bias', 'fc_reg.weight', 'fc_reg.bias'):
        assert f'size mismatch for roi_head.bbox_head.{key}' in out
    src = torch.load(str(teacher_pth))['state_dict']
    model = runner.model
    head = model.roi_head.bbox_head
    assert head.fc_cls.weight.shape == (3, 256) and src['roi_head.bbox_head.fc_cls.weight'].shape == (6, 256)
    assert head.fc_reg.weight.shape == (8, 256)
    assert 0.005 < head.fc_cls.weight.std().item() < 0.02  # mmdet's init: Normal(0, 0.01)
    for key, value in model.state_dict().items():
        if 'fc_cls' in key or 'fc_reg' in key or 'running_' in key or 'num_batches' in key:
            continue
        assert torch.equal(value, src[key]), key


def test_vindr_config_reads_what_the_converter_and_split_tool_write(tmp_path):
    """Tiny fake VinDr-CXR (DICOM + CSV) -> vindr_cxr converter -> split_semi -> the AnoMed
    config's labelled, unlabelled and test data sets load their images."""
    import csv

    from mmdet.registry import DATASETS
    from anomed_mmdet.datasets.converters.semi_split import split_semi
    from anomed_mmdet.datasets.converters.vindr import convert_vindr
    from tests.inference_helpers import gray_image, write_dicom16

    raw, out = tmp_path / 'raw', tmp_path / 'vindr_cxr'
    for split, n, label in (('train', 10, 'Cardiomegaly'), ('test', 2, 'Nodule/Mass')):
        rows = []
        for i in range(n):
            image_id = f'{split}{i:03d}'
            write_dicom16(raw / split / f'{image_id}.dicom', gray_image(64, 80, seed=i))
            box = ['10', '12', '40', '44'] if i % 2 == 0 else [''] * 4
            rows.append([image_id, 'R1', label if i % 2 == 0 else 'No finding', *box])
        csv_path = raw / f'{split}.csv'
        with open(csv_path, 'w', newline='') as f:
            csv.writer(f).writerows([['image_id', 'rad_id', 'class_name', 'x_min', 'y_min', 'x_max', 'y_max'],
                                     *rows])
        convert_vindr(str(raw), str(out), split, csv_path=str(csv_path), workers=1, verbose=False)
    split_semi(str(out / 'annotations/train.json'), str(out / 'annotations'), [10], [1], verbose=False)

    init_default_scope('mmdet')
    cfg = Config.fromfile(str(REPO / SEMI['vindr-cxr']))
    lab, unlab = cfg.train_dataloader.dataset.datasets
    sizes = {}
    for key, ds_cfg in (('lab', lab), ('unlab', unlab), ('test', cfg.test_dataloader.dataset)):
        ds_cfg.data_root = str(out) + '/'
        ds = DATASETS.build(ds_cfg)
        sizes[key] = len(ds)
        item = ds[0]
        samples = item['data_samples']
        sample = samples['unsup_teacher' if key == 'unlab' else 'sup'] if isinstance(samples, dict) else samples
        assert sample.ori_shape == (64, 80)
    assert sizes == {'lab': 1, 'unlab': 9, 'test': 2}
