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

/**
 * Wires a panel's start button: a click reads the request from the panel's fields (a bad field's
 * message goes to `status`) and runs it; a failed run has said what went wrong on the status line.
 */
export function onStart<R>(
  buttonId: string,
  read: () => R,
  run: (request: R) => Promise<unknown>,
  status: (text: string) => void,
): void {
  $(buttonId).addEventListener('click', () => {
    let request: R;
    try {
      request = read();
    } catch (error) {
      status((error as Error).message);
      return;
    }
    run(request).catch(() => undefined);
  });
}
