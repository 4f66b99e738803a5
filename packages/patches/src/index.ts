// @tessera/patches: Image and video input: decode with sharp, Hugging Face-style preprocessing, augmentation, patchify and patch embedding, ffmpeg frame sampling
export {};
