/** What the panels share with the page: the model in use, and how to load and switch models. */
import type { VaeModel, WebLoadOptions } from '../../runtime/web.js';

/** Examples with their shape, flat, values in [0, 1]. */
export interface Images {
  images: Float32Array;
  /** Shape of one example. */
  shape: number[];
  count: number;
}

/** The page as the panels see it. */
export interface AppContext {
  /** The model the panels run (undefined while the first one loads). */
  model(): VaeModel | undefined;
  /** Makes `model` the one every panel uses (the page redraws its pictures). */
  useModel(model: VaeModel, origin: string): Promise<void>;
  /** onnxruntime-web options for models the page loads (backend, wasm paths). */
  loadOptions: WebLoadOptions;
  /** Test examples of the data the current model was trained on in this tab, when it was. */
  trainedOn: Images | undefined;
}

/** The element with this id. */
export const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
