/**
 * Wire-level facts of the Coral USB Accelerator (reference: shared/reference/edgetpu-usb.md §1): CSR addresses,
 * the CSR control-transfer encoding, the 8-byte bulk-out header, the 16-byte event and the 4-byte interrupt word,
 * and the DFU 1.1 request numbers. Shared by the driver and the emulator so both speak the same protocol.
 */

export const CSR = {
  omc0_00: 0x1a000, // chip id 0x89A in bits 0-15
  omc0_d4: 0x1a0d4, // bit 31 thm_warn_en
  omc0_d8: 0x1a0d8, // bit 31 sd_en
  omc0_dc: 0x1a0dc, // thermal status / clear
  rambist_ctrl_1: 0x1a704,
  slv_abm_en: 0x1a500,
  mst_abm_en: 0x1a600,
  slv_err_resp_isr_mask: 0x1a558,
  mst_err_resp_isr_mask: 0x1a658,
  scu_ctrl_0: 0x1a30c,
  scu_ctrl_2: 0x1a314,
  scu_ctrl_3: 0x1a318,
  scu_ctr_7: 0x1a33c,
  gcbb_credit0: 0x1907c,
  tileconfig0: 0x48788,
  deepSleep: 0x40020,
  idleRegister: 0x4a000,
  scalarCoreRunControl: 0x44018,
  avDataPopRunControl: 0x44158,
  parameterPopRunControl: 0x44198,
  infeedRunControl: 0x441d8,
  outfeedRunControl: 0x44218,
  opRunControl: 0x400c0,
  narrowToWideRunControl: 0x40150,
  wideToNarrowRunControl: 0x40110,
  meshBus0RunControl: 0x40250,
  meshBus1RunControl: 0x40298,
  meshBus2RunControl: 0x402e0,
  meshBus3RunControl: 0x40328,
  ringBusConsumer0RunControl: 0x40190,
  ringBusConsumer1RunControl: 0x401d0,
  ringBusProducerRunControl: 0x40210,
  outfeed_chunk_length: 0x4c058,
  descr_ep: 0x4c148,
  multi_bo_ep: 0x4c160,
  fatal_err_int_control: 0x4c060,
  fatal_err_int_status: 0x4c068,
  top_level_int_0_control: 0x4c070,
  top_level_int_1_control: 0x4c080,
  top_level_int_2_control: 0x4c090,
  top_level_int_3_control: 0x4c0a0,
  top_level_int_0_status: 0x4c078,
  top_level_int_3_status: 0x4c0a8,
  hib_error_status: 0x486f0,
  hib_first_error_status: 0x48700,
} as const;

/** Run-control registers in the order libedgetpu's DoRunControl writes them (trace order). */
export const CORE_RUN_CONTROLS = [CSR.scalarCoreRunControl, CSR.avDataPopRunControl, CSR.parameterPopRunControl, CSR.infeedRunControl, CSR.outfeedRunControl];
export const TILE_RUN_CONTROLS = [
  CSR.opRunControl, CSR.narrowToWideRunControl, CSR.wideToNarrowRunControl,
  CSR.meshBus0RunControl, CSR.meshBus1RunControl, CSR.meshBus2RunControl, CSR.meshBus3RunControl,
  CSR.ringBusConsumer0RunControl, CSR.ringBusConsumer1RunControl, CSR.ringBusProducerRunControl,
];
export const TOP_LEVEL_INT_CONTROLS = [CSR.top_level_int_0_control, CSR.top_level_int_1_control, CSR.top_level_int_2_control, CSR.top_level_int_3_control];

/** 32-bit CSRs live in the 0x1xxxx block (SCU/APEX/CB bridge); everything else is 64-bit (bRequest 0). */
export function csrIs32(addr: number): boolean {
  return addr >>> 16 === 1;
}

export function csrSetup(addr: number, write: boolean) {
  return { bmRequestType: write ? 0x40 : 0xc0, bRequest: csrIs32(addr) ? 1 : 0, wValue: addr & 0xffff, wIndex: addr >>> 16 };
}

export function csrAddress(wValue: number, wIndex: number): number {
  return ((wIndex & 0xffff) << 16) | (wValue & 0xffff);
}

// scu_ctrl_3 fields
export const SCU3 = {
  curPwrStateShift: 8, // bits 8-9: 0 run, 2 sleep
  forceSleepShift: 22, // bits 22-23: 3 enter sleep/reset, 2 exit
  gcbClkdivShift: 28, // bits 28-29
};
export function field(v: number, shift: number, bits = 2): number {
  return (v >>> shift) & ((1 << bits) - 1);
}
export function setField(v: number, shift: number, value: number, bits = 2): number {
  const mask = ((1 << bits) - 1) << shift;
  return ((v & ~mask) | ((value << shift) & mask)) >>> 0;
}

export type Performance = 'max' | 'high' | 'medium' | 'low';
/** QuitReset clock fields of scu_ctrl_3: rg_gcb_clkdiv (bits 28-29), rg_axi_clk_125m (30), rg_8051_clk_250m (31). */
export const PERFORMANCE_CLOCKS: Record<Performance, { gcbDiv: number; axi125: number; i8051_250: number; gcbMHz: number }> = {
  max: { gcbDiv: 0, axi125: 0, i8051_250: 0, gcbMHz: 500 },
  high: { gcbDiv: 1, axi125: 1, i8051_250: 0, gcbMHz: 250 },
  medium: { gcbDiv: 2, axi125: 1, i8051_250: 0, gcbMHz: 125 },
  low: { gcbDiv: 3, axi125: 1, i8051_250: 1, gcbMHz: 63 },
};

// ---- Bulk streams ------------------------------------------------------------------------------------------------

export const EP = { bulkOut: 0x01, output: 0x81, event: 0x82, interrupt: 0x83 } as const;
export const TAG = { instructions: 0, input: 1, parameters: 2, output: 3, interrupt0: 4 } as const;
export const HEADER_BYTES = 8;
/** libedgetpu's max_bulk_out_transfer_size. */
export const MAX_BULK_OUT = 1 << 20;

export function encodeHeader(length: number, tag: number): Uint8Array {
  const h = new Uint8Array(HEADER_BYTES);
  new DataView(h.buffer).setUint32(0, length >>> 0, true);
  h[4] = tag & 0xf;
  return h;
}

export function decodeHeader(h: Uint8Array): { length: number; tag: number } {
  return { length: new DataView(h.buffer, h.byteOffset, 8).getUint32(0, true), tag: h[4]! & 0xf };
}

export interface DeviceEvent {
  address: bigint;
  length: number;
  tag: number;
}

export function encodeEvent(e: DeviceEvent): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, e.address, true);
  v.setUint32(8, e.length >>> 0, true);
  b[12] = e.tag & 0xf;
  return b;
}

export function decodeEvent(b: Uint8Array): DeviceEvent {
  if (b.length < 16) throw new Error(`Edge TPU event is ${b.length} bytes, expected 16`);
  const v = new DataView(b.buffer, b.byteOffset, 16);
  return { address: v.getBigUint64(0, true), length: v.getUint32(8, true), tag: b[12]! & 0xf };
}

/** Interrupt word bits (endpoint 0x83). */
export const INT = { fatal: 1 << 0, thermalShutdown: 1 << 1, pcieError: 1 << 2, mbist: 1 << 3, thermalWarning: 1 << 4 } as const;

// ---- DFU 1.1 -------------------------------------------------------------------------------------------------------

export const DFU = {
  DETACH: 0, DNLOAD: 1, UPLOAD: 2, GETSTATUS: 3, CLRSTATUS: 4, GETSTATE: 5, ABORT: 6,
  OUT: 0x21, IN: 0xa1,
  TRANSFER_SIZE: 256,
  STATE_IDLE: 2, STATE_DNLOAD_IDLE: 5, STATE_ERROR: 10,
} as const;

/** apex_latest_single_ep.bin from libedgetpu (10,783 bytes); verified by hash, never shipped with Edgewise. */
export const FIRMWARE_SINGLE_EP = { size: 10783, sha256: '3b07311b174b81fd14fd2c887f40d646c0ebf2f140cc5ee5cf8befa0f3e3dc7f' } as const;
