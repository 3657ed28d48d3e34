/** For specs: the part of a ws socket a connection uses, recording what was sent and how it closed. */
export class FakeWsSocket {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: string[] = [];
  closedWith?: number;
  terminated = false;

  send(frame: string): void {
    this.sent.push(frame);
  }

  close(code: number): void {
    this.closedWith = code;
    this.readyState = 2;
  }

  terminate(): void {
    this.terminated = true;
    this.readyState = 3;
  }
}
