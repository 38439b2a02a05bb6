// The names of the hub's BullMQ queues: the workers (jobs/) declare their queues with them and the gateway's /queues
// dashboard lists them, without the gateway importing jobs/.
export const QUEUE_NAMES = ['venue-bookings', 'expert-draws', 'notifications', 'reconciliation'] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];

export function isQueueName(value: string): value is QueueName {
  return (QUEUE_NAMES as readonly string[]).includes(value);
}
