/** One phrase of the text and what it was read as ("Mon/Wed" -> "days Mon, Wed"); phrase '' for a default. */
export interface Understood {
  phrase: string;
  meaning: string;
}

/** What an extractor read from a sentence: createForm's input without the slug, plus how it was read. */
export interface ExtractedForm {
  title: string;
  description: string | null;
  timeZone: string;
  /** Where the zone came from: 'stated as "..."', 'argument', "caller's default", 'DEFAULT_TIME_ZONE'. */
  timeZoneSource: string;
  maxSlotsPerRegistration: number | null;
  schedule: {
    daysOfWeek: number[];
    startTime: string;
    endTime: string;
    slotMinutes: number;
    capacityPerSlot: number;
    startDate: string;
    endDate: string | null;
    weeks: number | null;
  };
  understood: Understood[];
}
