/**
 * The viewer-zone tests' case (issue #20): a Berlin location read from New York on the day New York
 * springs forward (2055-03-14, 02:00 EST -> 03:00 EDT = 07:00Z), Berlin staying on CET, with the
 * exact local fields expected in each zone.
 */
export const BERLIN = 'Europe/Berlin';
export const NEW_YORK = 'America/New_York';
// 23:30Z: NY Sat 18:30 EST, Berlin Sun 00:30. 06:30Z: NY 01:30 EST, Berlin 07:30. 07:30Z: NY 03:30 EDT, Berlin 08:30.
export const STARTS = ['2055-03-13T23:30:00Z', '2055-03-14T06:30:00Z', '2055-03-14T07:30:00Z'];
export const IN_NEW_YORK = [
  {
    localDate: '2055-03-13',
    localStart: '18:30',
    localEnd: '19:30',
    localStartAt: '2055-03-13T18:30:00-05:00',
    dayPart: 'EVENING',
    timeZone: NEW_YORK,
  },
  {
    localDate: '2055-03-14',
    localStart: '01:30',
    localEnd: '03:30',
    localStartAt: '2055-03-14T01:30:00-05:00',
    dayPart: 'NIGHT',
    timeZone: NEW_YORK,
  },
  {
    localDate: '2055-03-14',
    localStart: '03:30',
    localEnd: '04:30',
    localStartAt: '2055-03-14T03:30:00-04:00',
    dayPart: 'NIGHT',
    timeZone: NEW_YORK,
  },
];
export const IN_BERLIN = [
  { localDate: '2055-03-14', localStart: '00:30', localEnd: '01:30', localStartAt: '2055-03-14T00:30:00+01:00', dayPart: 'NIGHT', timeZone: BERLIN },
  {
    localDate: '2055-03-14',
    localStart: '07:30',
    localEnd: '08:30',
    localStartAt: '2055-03-14T07:30:00+01:00',
    dayPart: 'MORNING',
    timeZone: BERLIN,
  },
  {
    localDate: '2055-03-14',
    localStart: '08:30',
    localEnd: '09:30',
    localStartAt: '2055-03-14T08:30:00+01:00',
    dayPart: 'MORNING',
    timeZone: BERLIN,
  },
];
export const LOCAL = 'localDate localStart localEnd localStartAt dayPart timeZone';
export const ERR = '... on ValidationError { fieldErrors { path message } }';
