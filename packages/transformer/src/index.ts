// @tessera/transformer: The shared cross-attention Transformer: layers, text/vision/video encoders, fusion encoder, decoder with KV cache, generation
export {};
