// @tessera/objectives: Contrastive and masked pretraining objectives: CLIP, SigLIP, ALBEF ITC with momentum distillation, ITM, MLM, MAE, captioning, distillation
export {};
