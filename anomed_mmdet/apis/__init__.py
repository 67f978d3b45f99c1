"""Inference and checkpoint conversion: plain detectors from teacher-student models."""
from .semi_to_plain import (detector_config, detector_state_dict, extract_detector, inference_config,
                       is_semi_config, is_semi_state_dict, load_checkpoint_dict)
from .inference import (ImageReadError, collect_inputs, draw_detections, init_xray_detector,
                        predict_array, predict_file, read_image, run_inference)

__all__ = [
    'detector_config', 'detector_state_dict', 'extract_detector', 'inference_config', 'is_semi_config',
    'is_semi_state_dict', 'load_checkpoint_dict', 'ImageReadError', 'collect_inputs',
    'draw_detections', 'init_xray_detector', 'predict_array', 'predict_file', 'read_image',
    'run_inference',
]
