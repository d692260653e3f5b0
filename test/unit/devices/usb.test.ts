import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UDEV_RULES, probeUsb, setUsbBackend, translateUsbError, watchDevices, withTimeout } from '../../../native-bridges/usb.ts';
import { EmulatedCoralStick, EmulatorBackend } from '../../emulator/coral-stick.ts';

test('libusb errors become actionable messages', () => {
  const perm = translateUsbError({ errno: -3, message: 'LIBUSB_ERROR_ACCESS' }, 'opening', '1-2');
  assert.equal(perm.kind, 'permission');
  assert.match(perm.fix!, /idVendor}=="1a6e",ATTRS{idProduct}=="089a"/);
  assert.match(perm.fix!, /idVendor}=="18d1",ATTRS{idProduct}=="9302"/);
  assert.match(perm.fix!, /udevadm control --reload-rules/);
  assert.equal(UDEV_RULES.trim().split('\n').length, 2);
  const busy = translateUsbError({ errno: -6 }, 'claiming interface 0', '1-2');
  assert.equal(busy.kind, 'busy');
  assert.match(busy.message, /another program holds it/);
  assert.equal(translateUsbError({ errno: 4 }, 'read', '1-2', true).kind, 'stall');
  assert.equal(translateUsbError({ errno: 2 }, 'read', '1-2', true).kind, 'timeout');
  assert.equal(translateUsbError({ errno: -4 }, 'read', '1-2').kind, 'no-device');
});

test('withTimeout rejects a promise that never settles', async () => {
  await assert.rejects(withTimeout(new Promise(() => {}), 20, 'waiting'), /Timed out after 20 ms: waiting/);
});

test('hotplug events are debounced into one batch (DFU re-enumerates)', async () => {
  const stick = new EmulatedCoralStick();
  const backend = new EmulatorBackend([stick]);
  const batches: string[][] = [];
  const off = watchDevices(backend, (b) => batches.push(b.map((c) => `${c.type}:${c.info.productId.toString(16)}`)), 30);
  stick.unplug();
  stick.replug();
  await new Promise((r) => setTimeout(r, 80));
  off();
  assert.deepEqual(batches, [['detach:89a', 'attach:89a']]);
});

test('probeUsb reports the sticks a backend sees (and never throws)', async () => {
  setUsbBackend(new EmulatorBackend([new EmulatedCoralStick({ ports: [7] })]));
  const r = await probeUsb();
  assert.equal(r.ok, true);
  assert.match(r.detail, /1 Coral stick\(s\) at 1-7/);
  setUsbBackend(undefined);
  const real = await probeUsb();
  assert.equal(typeof real.ok, 'boolean');
  if (!real.ok) assert.ok(real.fix);
});
