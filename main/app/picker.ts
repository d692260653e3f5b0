/** The Electron `FilePicker`: native open/save dialogs, with filters per purpose. */
import { dialog } from 'electron';
import type { BrowserWindow, OpenDialogOptions } from 'electron';
import type { FilePicker } from '../api/files.ts';

const MODEL_FILTERS = [
  { name: 'Models (Keras, TF.js, TFLite)', extensions: ['keras', 'h5', 'json', 'tflite'] },
  { name: 'All files', extensions: ['*'] },
];
const DATASET_FILTERS = [
  { name: 'Datasets (IDX, NumPy, CSV, images)', extensions: ['idx', 'gz', 'ubyte', 'npy', 'npz', 'csv', 'png', 'jpg', 'jpeg', 'bmp'] },
  { name: 'All files', extensions: ['*'] },
];

export function dialogPicker(window: () => BrowserWindow | null): FilePicker {
  return {
    async pick(purpose, { folder }) {
      const parent = window();
      if (purpose === 'export') {
        const options = { title: 'Export model', filters: [{ name: 'TensorFlow Lite', extensions: ['tflite'] }] };
        const result = parent ? await dialog.showSaveDialog(parent, options) : await dialog.showSaveDialog(options);
        return result.canceled || !result.filePath ? null : result.filePath;
      }
      const options: OpenDialogOptions = {
        title: purpose === 'model' ? 'Open a model' : 'Choose a dataset',
        properties: [folder ? 'openDirectory' : 'openFile'],
        filters: folder ? undefined : purpose === 'model' ? MODEL_FILTERS : DATASET_FILTERS,
      };
      const result = parent ? await dialog.showOpenDialog(parent, options) : await dialog.showOpenDialog(options);
      return result.canceled || result.filePaths.length === 0 ? null : result.filePaths[0]!;
    },
  };
}
