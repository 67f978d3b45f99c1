"""Install AnoMed-MMDet: ``pip install -e .`` (after tools/install_env.sh has put torch and mmcv)."""
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def read_requirements(name: str) -> list:
    """Requirement lines of ``requirements/<name>.txt``, following ``-r`` includes."""
    reqs = []
    for line in (HERE / 'requirements' / name).read_text().splitlines():
        line = line.split('#')[0].strip()
        if line.startswith('-r '):
            reqs += read_requirements(line[3:].strip())
        elif line:
            reqs.append(line)
    return reqs


def read_version() -> str:
    scope = {}
    exec((HERE / 'anomed_mmdet' / 'version.py').read_text(), scope)
    return scope['__version__']


setup(
    name='anomed_mmdet',
    version=read_version(),
    description='AnoMed: semi-supervised lesion localization in X-ray images, as an MMDetection plugin',
    long_description=(HERE / 'README.md').read_text() if (HERE / 'README.md').exists() else '',
    long_description_content_type='text/markdown',
    license='MIT',
    packages=find_packages(include=['anomed_mmdet', 'anomed_mmdet.*']),
    python_requires='>=3.8',
    install_requires=read_requirements('runtime.txt'),
    extras_require={'tests': read_requirements('tests.txt')},
    classifiers=[
        'Programming Language :: Python :: 3',
        'Topic :: Scientific/Engineering :: Medical Science Apps.',
    ],
)
