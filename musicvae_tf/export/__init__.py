"""Exports of a trained MusicVAE for the browser and for serving.

Modules:
  magenta_js     the folder magenta.js's `new mm.MusicVAE(url)` loads (config.json + weights)
  tfjs_weights   TensorFlow.js weights_manifest.json + shards, float16/uint8 quantization
  saved_model    a TF SavedModel with encode/decode/sample signatures; the TFLite decoder
  web_site       the static web player (`music_vae_web`), its template in site_template/
"""
