"""export helpers: ranking, data set fingerprint, the checkpoint's PLO buffers, order-free split."""
import torch
from mmengine.config import Config
from mmengine.structures import InstanceData

from anomed_mmdet.review.export import build_plo, images_fingerprint, rank_key, split_boxes


def test_rank_hesitant_first_then_nearest_half_then_rarer_class():
    def cand(i, bucket, score, cls):
        return dict(id=i, image_id=1, bucket=bucket, score=score, **{'class': cls})
    cands = [cand(1, 'confident', 0.5, 'mass'), cand(2, 'hesitant', 0.9, 'mass'),
             cand(3, 'hesitant', 0.51, 'nodule'), cand(4, 'hesitant', 0.49, 'mass'),
             cand(5, 'hesitant', 0.3, 'mass')]
    counts = {'nodule': 40, 'mass': 3}
    order = [c['id'] for c in sorted(cands, key=lambda c: rank_key(c, counts))]
    assert order == [4, 3, 5, 2, 1]  # 0.49 and 0.51 tie on distance: the rarer mass first


def test_fingerprint_ignores_order_and_sees_file_names():
    a = [dict(id=1, file_name='a.png'), dict(id=2, file_name='b.png')]
    assert images_fingerprint(a) == images_fingerprint(a[::-1])
    assert images_fingerprint(a) != images_fingerprint([dict(id=1, file_name='a.png'), dict(id=2, file_name='c.png')])


def test_plo_from_config_with_checkpoint_buffers_and_order_free_split():
    cfg = Config(dict(model=dict(plo=dict(type='PseudoLabelOptimizer', confident_thr=0.6, scrap_thr=0.2,
                                          class_thrs='adaptive', hesitant=dict(cls=True)))))
    ema = torch.tensor([0.8, 0.4])
    plo = build_plo(cfg, {'plo.class_score_ema': ema, 'plo.prior.gt_count': torch.tensor([3., 1.]),
                         'teacher.x': torch.zeros(1)}, num_classes=2)
    assert torch.equal(plo.class_score_ema, ema) and not plo.training
    t1, t2 = plo.thresholds()
    assert torch.allclose(t1, torch.tensor([0.6, 0.6 * 0.5])) and torch.allclose(t2, torch.tensor([0.2, 0.1]))
    inst = InstanceData(bboxes=torch.tensor([[0., 0, 10, 10], [20, 20, 40, 40], [50, 50, 60, 60]]),
                        scores=torch.tensor([0.7, 0.25, 0.1]), labels=torch.tensor([0, 1, 0]))
    boxes = split_boxes(plo, inst)
    assert [(b['bucket'], b['label']) for b in boxes] == [('confident', 0), ('hesitant', 1)]
    assert torch.equal(plo.class_score_ema, ema)  # the running statistics are left as found
    assert split_boxes(plo, inst) == boxes
