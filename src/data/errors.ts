/** Bad input data: the message names the column, row, region or shape at fault. */
export class DataError extends Error {
  constructor(message: string) {
    super(message.startsWith('causalmix') ? message : `causalmix: ${message}`);
    this.name = 'DataError';
  }
}
