import type { SqlQuery } from '../db/database.js';

/** The calendar domain's SQL: what invitations and notices read and change. */

export interface FormMailRow {
  title: string;
  time_zone: string;
  location_name: string | null;
  location_address: string | null;
  creator_email: string | null;
  creator_name: string | null;
}

/** A form with its location and creator, as a registration's mails name them. */
export async function selectFormForMail(tx: SqlQuery, formId: string): Promise<FormMailRow | undefined> {
  const [form] = await tx.query<FormMailRow>(
    `SELECT f.title, f.time_zone, l.name AS location_name, l.address AS location_address, u.email AS creator_email, u.name AS creator_name
     FROM forms f LEFT JOIN locations l ON l.id = f.location_id LEFT JOIN users u ON u.id = f.created_by
     WHERE f.id = $1::uuid`,
    [formId],
  );
  return form;
}
