import { TesseraError } from '@tessera/base';
import type { SafetensorsTensor } from './safetensors.js';
import { toFloat32 } from './safetensors.js';
import { tf } from './tf.js';

/** Copies a tfjs tensor out to a safetensors entry (float32 -> F32, int32 -> I32, bool -> U8). */
export async function tensorToSafetensors(tensor: tf.Tensor): Promise<SafetensorsTensor> {
  const data = await tensor.data();
  switch (tensor.dtype) {
    case 'float32':
      return { dtype: 'F32', shape: [...tensor.shape], data: Float32Array.from(data as Float32Array) };
    case 'int32':
      return { dtype: 'I32', shape: [...tensor.shape], data: Int32Array.from(data as Int32Array) };
    case 'bool':
      return { dtype: 'U8', shape: [...tensor.shape], data: Uint8Array.from(data as Uint8Array) };
    default:
      throw new TesseraError('E_SAFETENSORS', `cannot store a ${tensor.dtype} tensor in safetensors`);
  }
}

/** Makes a tfjs tensor from a safetensors entry: floats become float32, integers int32. */
export function safetensorsToTensor(entry: SafetensorsTensor): tf.Tensor {
  switch (entry.dtype) {
    case 'F32':
    case 'F16':
    case 'BF16':
      return tf.tensor(toFloat32(entry), entry.shape, 'float32');
    case 'I32':
      return tf.tensor(entry.data as Int32Array, entry.shape, 'int32');
    case 'U8':
      return tf.tensor(Int32Array.from(entry.data as Uint8Array), entry.shape, 'int32');
    case 'I64': {
      const wide = entry.data as BigInt64Array;
      const narrow = new Int32Array(wide.length);
      for (let i = 0; i < wide.length; i++) {
        const v = wide[i] as bigint;
        if (v > 2147483647n || v < -2147483648n) {
          throw new TesseraError('E_SAFETENSORS', `I64 value ${v} does not fit in int32 (tfjs has no int64)`);
        }
        narrow[i] = Number(v);
      }
      return tf.tensor(narrow, entry.shape, 'int32');
    }
  }
}
