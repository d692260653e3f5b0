/** Error (and info) toasts: a short list shown in the corner; errors stay until dismissed or replaced. */
import type { ApiError } from '../../preload/contract.ts';

export interface Toast {
  id: number;
  kind: 'error' | 'info';
  title: string;
  message: string;
  hint?: string;
}

const MAX = 4;
const INFO_MS = 4000;
const ERROR_MS = 12000;

class Toasts {
  items = $state<Toast[]>([]);
  #next = 1;

  show(toast: Omit<Toast, 'id'>): number {
    const id = this.#next++;
    this.items = [...this.items.slice(-(MAX - 1)), { ...toast, id }];
    setTimeout(() => this.dismiss(id), toast.kind === 'error' ? ERROR_MS : INFO_MS);
    return id;
  }

  error(error: ApiError, title = 'Something went wrong'): number {
    return this.show({ kind: 'error', title, message: error.message, hint: error.hint });
  }

  info(message: string): number {
    return this.show({ kind: 'info', title: message, message: '' });
  }

  dismiss(id: number): void {
    this.items = this.items.filter((t) => t.id !== id);
  }
}

export const toasts = new Toasts();
