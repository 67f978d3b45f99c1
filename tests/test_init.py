"""Importing the package registers its modules."""


def test_import_registers_modules_in_mmdet_registries():
    import anomed_mmdet
    from mmdet.registry import DATASETS
    assert anomed_mmdet.__version__
    assert DATASETS.get('SynthCXRDataset') is not None
