/**
 * Common English given names and their diminutives, so "Bill" and "William" compare as the same first name.
 * No maintained npm package carries such a list (the packages named so generate pet names), so it is kept
 * here as data: each line is a formal name followed by the short forms people record instead.
 */
const GROUPS = `
abigail abby abbie gail|albert al bert bertie|alexander alex alec sandy xander|alexandra alex alexa sandra lexi|alfred alf alfie fred
andrew andy drew|anthony tony ant|barbara barb barbie babs|benjamin ben benny benji|bernard bernie|beverly bev
catherine cathy kate katie kath kathy cat|katherine kate katie kathy kath kat|kathleen kathy kath|charles charlie chuck chas chaz
christina chris tina chrissy|christine chris tina chrissy|christopher chris kit topher|cynthia cindy|daniel dan danny
david dave davy|deborah deb debbie debra|dennis denny|donald don donnie|dorothy dot dottie dolly|douglas doug|edward ed eddie ted ned
eleanor ellie nell nora|elizabeth liz lizzie beth betty bess eliza libby|emily em emmy|eugene gene|frances fran frankie
francis frank|frederick fred freddie|gabriel gabe|gerald gerry jerry|gregory greg|harold harry hal|henry hank harry hal
isabella bella izzy isabel|jacob jake|james jim jimmy jamie|jane jenny janie|janet jan|jennifer jen jenny|jessica jess jessie
john jack johnny jon|jonathan jon jonny nathan|joseph joe joey|joshua josh|judith judy|kenneth ken kenny|lawrence larry laurie
leonard len lenny leo|lucas luke|margaret maggie meg peggy marge margie greta|matthew matt|michael mike mick mickey
nathaniel nate nathan nat|nicholas nick nicky|pamela pam|patricia pat patty trish tricia|patrick pat paddy|peter pete
philip phil|rebecca becky becca|richard rick dick rich richie|robert rob bob bobby robbie bert|ronald ron ronnie|samantha sam sammy
samuel sam sammy|sarah sally sadie|stephen steve stevie|steven steve stevie|susan sue susie suzy|theodore ted teddy theo
thomas tom tommy|timothy tim timmy|victoria vicky tori|vincent vince vinny|walter walt wally|william will bill billy willy liam
zachary zach zack|kevin kev|nancy nan nance|sandra sandy sandi|amanda mandy manda|kimberly kim kimmy|melissa mel missy
melanie mel|angela angie|ashley ash|jacqueline jackie jacqui|jeffrey jeff|geoffrey geoff|julia julie jules|laura laurie
louis lou|louise lou|nicole nicky nikki|olivia liv livvy|raymond ray|russell russ|stanley stan|stephanie steph
teresa terry tess|theresa terry tess|terence terry|valerie val|virginia ginny|arthur art|bradley brad|clifford cliff
dominic dom|maximilian max|maxwell max|mitchell mitch|nathan nate|oliver ollie|randall randy|randolph randy
reginald reg reggie|rodney rod|sebastian seb|sidney sid|tobias toby|wesley wes|allison ally allie|gabriella gabby
gabrielle gabby|josephine jo josie|joanne jo|michelle shelly|christian chris|cameron cam|jeremy jerry|jerome jerry`;

/** Each known name (formal or short) → the formal names it can stand for. */
const FORMS = new Map<string, string[]>();
for (const group of GROUPS.split(/[|\n]/)) {
  const [formal, ...short] = group.trim().split(/\s+/);
  if (!formal) continue;
  for (const name of [formal, ...short]) FORMS.set(name, [...(FORMS.get(name) ?? []), formal]);
}

/** True when one name is a known short form of the other, or both are short forms of one formal name. */
export function sameNickname(a: string, b: string): boolean {
  const x = FORMS.get(a);
  const y = FORMS.get(b);
  return x !== undefined && y !== undefined && x.some((f) => y.includes(f));
}

/** The formal names a known name (formal or short) stands for; undefined for a name not in the list. */
export function formalNames(name: string): readonly string[] | undefined {
  return FORMS.get(name);
}
