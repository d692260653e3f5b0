/** The app's top-level screens, in navigation order. */
export type ScreenId = 'optimize' | 'history' | 'devices' | 'settings';

export const SCREENS: { id: ScreenId; label: string; shortcut: string }[] = [
  { id: 'optimize', label: 'Optimize', shortcut: '1' },
  { id: 'history', label: 'History', shortcut: '2' },
  { id: 'devices', label: 'Devices', shortcut: '3' },
  { id: 'settings', label: 'Settings', shortcut: '4' },
];
