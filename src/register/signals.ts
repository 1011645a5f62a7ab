/**
 * The signal catalogue (ours): a letter and four digits. `A` (afkeurend) rejects the stand, `W`
 * (waarschuwing) approves it with a warning; `bekostiging` says whether it can change the school's funding. docs/signalen.md documents every code; a test keeps the
 * two in step. Texts never hold a full personal number.
 */

export type Ernst = 'A' | 'W';

export const SIGNALS = {
  E0001: {
    ernst: 'A',
    bekostiging: false,
    omschrijving: 'Het examenresultaat mist de onderwijsaanbieder (RIO); die is bij een examenresultaat verplicht.',
  },
  E0002: {
    ernst: 'A',
    bekostiging: false,
    omschrijving: 'Het te verwijderen examenresultaat is niet bekend.',
  },
  E0003: {
    ernst: 'W',
    bekostiging: false,
    omschrijving: 'Er is al een nieuwere stand van dit examenresultaat verwerkt; deze stand is niet verwerkt.',
  },
  E0010: {
    ernst: 'W',
    bekostiging: false,
    omschrijving:
      'Op de datum van de uitslag staat de leerling niet ingeschreven bij de school. Controleer de datum uitslag en de in- en uitschrijfdatum.',
  },
  E0011: {
    ernst: 'W',
    bekostiging: false,
    omschrijving:
      'De leerling is geslaagd, maar de inschrijving loopt door in het volgende schooljaar. Is de uitschrijfdatum vergeten?',
  },
  E0012: {
    ernst: 'W',
    bekostiging: false,
    omschrijving: 'Het niveau van het examenresultaat wijkt af van het niveau van de opleiding van de inschrijving.',
  },
  E0013: {
    ernst: 'W',
    bekostiging: false,
    omschrijving:
      'CE verwacht, maar niet geleverd: er is een uitslag, maar geen enkel vak heeft een cijfer centraal examen.',
  },
  E0014: {
    ernst: 'W',
    bekostiging: false,
    omschrijving:
      'SE verwacht, maar niet geleverd: er is een uitslag, maar geen enkel vak heeft een cijfer schoolexamen.',
  },
  E0015: {
    ernst: 'W',
    bekostiging: false,
    omschrijving: 'Uitslag verwacht, maar niet geleverd: er is een cijfer centraal examen geleverd, maar geen uitslag.',
  },
  E0016: {
    ernst: 'W',
    bekostiging: false,
    omschrijving:
      'Het resultaat van de aangegeven herkansing ontbreekt: geen cijfer centraal examen van het vak in dat tijdvak.',
  },
  E0017: {
    ernst: 'W',
    bekostiging: false,
    omschrijving:
      'Het vak is niet compleet: een vak op de cijferlijst dat niet voor het diploma telt, heeft geen eindcijfer of beoordeling.',
  },
  E0018: {
    ernst: 'W',
    bekostiging: false,
    omschrijving:
      'Het werkstuk heeft een cijfer met een decimaal; een werkstuk krijgt een heel cijfer (in tienden: 60, 70, 80).',
  },
  E0019: {
    ernst: 'W',
    bekostiging: false,
    omschrijving:
      'Een uitslag die op 1 augustus van dit schooljaar in het register stond, is verwijderd. Controleer of dit de bedoeling is.',
  },
  I0001: { ernst: 'A', bekostiging: true, omschrijving: 'Het burgerservicenummer voldoet niet aan de elfproef.' },
  I0002: {
    ernst: 'A',
    bekostiging: true,
    omschrijving: 'Het onderwijsnummer voldoet niet aan de controle op onderwijsnummers.',
  },
  I0003: { ernst: 'A', bekostiging: true, omschrijving: 'De vestiging hoort niet bij de BRIN van de inschrijving.' },
  I0004: { ernst: 'A', bekostiging: true, omschrijving: 'Een periode begint voor de datum van inschrijving.' },
  I0005: { ernst: 'A', bekostiging: true, omschrijving: 'Een periode begint na de datum van uitschrijving.' },
  I0006: {
    ernst: 'A',
    bekostiging: true,
    omschrijving: 'De datum van uitschrijving ligt voor de datum van inschrijving.',
  },
  I0007: { ernst: 'A', bekostiging: true, omschrijving: 'Twee periodes beginnen op dezelfde datum.' },
  I0009: { ernst: 'A', bekostiging: true, omschrijving: 'De te verwijderen inschrijving is niet bekend.' },
  I0010: {
    ernst: 'W',
    bekostiging: false,
    omschrijving: 'Er is al een nieuwere stand van deze inschrijving verwerkt; deze stand is niet verwerkt.',
  },
  I0011: {
    ernst: 'A',
    bekostiging: true,
    omschrijving:
      'Voor een leerling met een onderwijsnummer moet elke periode die op of na 1 augustus 2025 loopt de indicatie nieuwkomersbekostiging hebben.',
  },
  I0012: {
    ernst: 'A',
    bekostiging: true,
    omschrijving:
      'Het burgerservicenummer is niet bekend in de basisregistratie, of geboortedatum en geslacht komen niet overeen. Identificeer de leerling met de uitgebreide gegevensset (zonder PGN).',
  },
  I0013: {
    ernst: 'W',
    bekostiging: false,
    omschrijving: 'De datum van inschrijving ligt meer dan een jaar in de toekomst.',
  },
  I0016: {
    ernst: 'W',
    bekostiging: true,
    omschrijving: 'De leerling is in dezelfde periode ook bij een andere instelling ingeschreven.',
  },
  I0017: {
    ernst: 'A',
    bekostiging: true,
    omschrijving: 'Een periode van ontwikkelingsperspectief of verblijf elders eindigt voor zij begint.',
  },
  I0018: {
    ernst: 'W',
    bekostiging: true,
    omschrijving:
      'De leerling staat op de peildatum ook bij een andere instelling ingeschreven (dubbele inschrijving).',
  },
  I0030: {
    ernst: 'W',
    bekostiging: false,
    omschrijving:
      'De leerling is op 1 augustus van het schooljaar onwaarschijnlijk oud voor het leerjaar. Controleer geboortedatum en leerjaar.',
  },
  I0031: {
    ernst: 'W',
    bekostiging: false,
    omschrijving:
      'De leerling is op 1 augustus van het schooljaar jonger dan 9 jaar. Controleer geboortedatum en leerjaar.',
  },
  I0032: {
    ernst: 'W',
    bekostiging: false,
    omschrijving:
      'De leerling in het praktijkonderwijs is op 1 augustus van het schooljaar ouder dan 20 jaar. Controleer de geboortedatum.',
  },
  I0033: {
    ernst: 'W',
    bekostiging: false,
    omschrijving: 'Het leerjaar verschilt meer dan één van het leerjaar van de direct voorafgaande periode.',
  },
  I0034: {
    ernst: 'A',
    bekostiging: true,
    omschrijving:
      'Een periode mist de onderwijsaanbieder of de onderwijslocatie (RIO); beide zijn in elke periode verplicht.',
  },
  I0035: {
    ernst: 'W',
    bekostiging: false,
    omschrijving:
      'De onderwijslocatie hoort op de begindatum van de laatste periode niet bij de vestiging volgens RIO.',
  },
  I0036: {
    ernst: 'W',
    bekostiging: false,
    omschrijving:
      'Bij een leerling met een burgerservicenummer bepaalt het register de indicatie nieuwkomersbekostiging zelf; alleen N (afzien) wordt overgenomen.',
  },
  P0001: {
    ernst: 'A',
    bekostiging: true,
    omschrijving:
      'Het onderwijsnummer is niet bekend. Identificeer de leerling met de uitgebreide gegevensset (zonder PGN).',
  },
  P0002: {
    ernst: 'W',
    bekostiging: false,
    omschrijving:
      'Volgens de basisregistratie is de leerling overleden, maar deze inschrijving loopt daarna door. Lever de inschrijving opnieuw met een uitschrijfdatum op of vóór de overlijdensdatum.',
  },
  P0003: {
    ernst: 'W',
    bekostiging: true,
    omschrijving:
      'Het huidige onderwijsnummer is niet door het register uitgegeven en is niet aan het burgerservicenummer gekoppeld; inschrijvingen onder dat nummer blijven los staan.',
  },
  P0004: {
    ernst: 'W',
    bekostiging: true,
    omschrijving:
      'Geboortedatum of geslacht bij het huidige onderwijsnummer wijkt af van de basisregistratie; de nummers zijn niet gekoppeld. Controleer welke leerling het is.',
  },
  P0005: {
    ernst: 'W',
    bekostiging: true,
    omschrijving:
      'Het huidige onderwijsnummer is al aan een ander burgerservicenummer gekoppeld; het wordt niet opnieuw gekoppeld. Meld dit bij de beheerder van het register.',
  },
  Q0001: {
    ernst: 'W',
    bekostiging: false,
    omschrijving: 'Kwaliteitscontrole: de datum van inschrijving ligt meer dan een jaar na vandaag.',
  },
  Q0002: {
    ernst: 'W',
    bekostiging: true,
    omschrijving:
      'Kwaliteitscontrole: de leerling is overleden, maar de inschrijving heeft geen uitschrijfdatum of een die na de overlijdensdatum ligt.',
  },
  Q0003: {
    ernst: 'W',
    bekostiging: false,
    omschrijving:
      'Kwaliteitscontrole: de leerling staat al meer dan negen maanden na de eerste inschrijving alleen met een onderwijsnummer ingeschreven. Is er inmiddels een BSN?',
  },
  Q0004: {
    ernst: 'W',
    bekostiging: false,
    omschrijving: 'Kwaliteitscontrole: de leerling is op 1 augustus ongewoon oud voor het leerjaar van de periode.',
  },
  Q0005: {
    ernst: 'W',
    bekostiging: false,
    omschrijving: 'Kwaliteitscontrole: de leerling is op 1 augustus jonger dan 9 jaar.',
  },
  Q0006: {
    ernst: 'W',
    bekostiging: false,
    omschrijving: 'Kwaliteitscontrole: het leerjaar verschilt meer dan één van dat van de periode ervoor.',
  },
  Q0007: {
    ernst: 'W',
    bekostiging: false,
    omschrijving: 'Kwaliteitscontrole: de leerling in het praktijkonderwijs is op 1 augustus ouder dan 20 jaar.',
  },
  Q0008: {
    ernst: 'W',
    bekostiging: true,
    omschrijving:
      'Kwaliteitscontrole: de inschrijving loopt door in dit schooljaar, maar de laatste periode begint ervoor. Is de overgang naar het nieuwe leerjaar vergeten?',
  },
  Q0009: {
    ernst: 'W',
    bekostiging: false,
    omschrijving:
      'Kwaliteitscontrole: een ontwikkelingsperspectief begint meer dan een jaar na de levering van de stand.',
  },
  Q0010: {
    ernst: 'W',
    bekostiging: false,
    omschrijving:
      'Kwaliteitscontrole: een ontwikkelingsperspectief eindigt meer dan een jaar na de levering van de stand.',
  },
  Q0011: {
    ernst: 'W',
    bekostiging: false,
    omschrijving: 'Kwaliteitscontrole: een verblijf bij een vavo-instelling begint meer dan een jaar na vandaag.',
  },
  Q0012: {
    ernst: 'W',
    bekostiging: false,
    omschrijving:
      'Kwaliteitscontrole: een periode neemt deel aan zowel het versnelde als het verrijkte vwo-programma; dat kan niet samen.',
  },
  Q0013: {
    ernst: 'W',
    bekostiging: true,
    omschrijving:
      'Kwaliteitscontrole: de leerling staat in dit schooljaar ook bij een andere vo-school ingeschreven. Neem contact op met die school.',
  },
  V0001: {
    ernst: 'A',
    bekostiging: true,
    omschrijving:
      'Het bericht kon niet worden verwerkt en staat bij de beheerder van de broker in de foutenwachtrij. Lever het niet opnieuw aan: de beheerder verwerkt het opnieuw.',
  },
} as const satisfies Record<string, { ernst: Ernst; bekostiging: boolean; omschrijving: string }>;

export type SignalCode = keyof typeof SIGNALS;

/** A named value that tells the receiver which part of the stand a signal is about (≤ 5 per signal). */
export interface Sleutelgegeven {
  readonly naam: string;
  readonly waarde: string;
}

export interface Signal {
  readonly code: SignalCode;
  readonly ernst: Ernst;
  readonly omschrijving: string;
  readonly sleutelgegevens: readonly Sleutelgegeven[];
}

export function signal(code: SignalCode, sleutelgegevens: readonly Sleutelgegeven[] = []): Signal {
  return {
    code,
    ernst: SIGNALS[code].ernst,
    omschrijving: SIGNALS[code].omschrijving,
    sleutelgegevens: sleutelgegevens.slice(0, 5),
  };
}

/** A stand is approved when no signal rejects it. */
export const isRejected = (signals: readonly Signal[]): boolean => signals.some((s) => s.ernst === 'A');
