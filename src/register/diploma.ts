/** A passed exam result: a diploma in the register (one per exam result), with its subjects as delivered. */
export interface Diploma {
  readonly brin: string;
  /** The delivered niveau code (VMBO_TL, HAVO, VWO, …). */
  readonly level: string;
  /** `YYYY-MM-DD`. */
  readonly diplomaDate: string;
  readonly subjects: readonly { readonly vak: string; readonly eindcijfer?: string; readonly beoordeling?: string }[];
}
