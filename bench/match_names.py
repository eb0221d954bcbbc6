"""Names for the generated students of bench/match_data.py (common US given and family names,
synthetic syllables for the long tail) and the slips the generator makes with them."""

from __future__ import annotations


def _words(text: str) -> list[str]:
    return text.split()


SURNAMES = _words("""
smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez
lopez gonzalez wilson anderson thomas taylor moore jackson martin lee perez thompson
white harris sanchez clark ramirez lewis robinson walker young allen king wright scott
torres nguyen hill flores green adams nelson baker hall rivera campbell mitchell carter
roberts gomez phillips evans turner diaz parker cruz edwards collins reyes stewart
morris morales murphy cook rogers gutierrez ortiz morgan cooper peterson bailey reed
kelly howard ramos kim cox ward richardson watson brooks chavez wood james bennett gray
mendoza ruiz hughes price alvarez castillo sanders patel myers long ross foster jimenez
powell jenkins perry russell sullivan bell coleman butler henderson barnes gonzales
fisher vasquez simmons romero jordan patterson alexander hamilton graham reynolds
griffin wallace moreno west cole hayes bryant herrera gibson ellis tran medina aguilar
stevens murray ford castro marshall owens harrison fernandez mcdonald woods washington
kennedy wells vargas henry chen freeman webb tucker guzman burns crawford olson simpson
porter hunter gordon mendez silva shaw snyder mason dixon munoz hunt hicks holmes palmer
wagner black robertson boyd rose stone salazar fox warren mills meyer rice schmidt garza
daniels ferguson nichols stephens soto weaver ryan gardner payne grant dunn kelley
spencer hawkins arnold pierce vazquez hansen peters santos hart bradley knight elliott
cunningham duncan armstrong hudson carroll lane riley andrews alvarado ray delgado berry
perkins hoffman johnston matthews pena richards contreras willis carpenter lawrence
sandoval o'brien o'connor mcallister st.john de-la-cruz van-der-berg nakamura yamamoto
tanaka wang zhang liu singh kaur shah nguyen pham le vo dang bui""")
BOYS = _words("""
liam noah oliver james elijah william henry lucas benjamin theodore mateo levi sebastian
daniel jack michael alexander owen asher samuel ethan leo jackson mason ezra john hudson
luca aiden joseph david jacob logan luke julian gabriel grayson wyatt matthew maverick
dylan isaac elias anthony thomas jayden carter santiago ezekiel charles josiah caleb
cooper lincoln miles christopher nathan isaiah kai joshua andrew angel adrian cameron
nolan waylon jaxon roman eli wesley aaron ian christian ryan leonardo brooks axel walker
jonathan easton everett weston bennett robert jameson landon silas jose beau micah
colton jordan jeremiah parker greyson rowan adam nicholas theo xavier hunter dominic
jace gael river thiago kingston vincent evan carlos juan luis miguel diego jesus
alejandro francisco ricardo eduardo manuel pedro rafael fernando""")
GIRLS = _words("""
olivia emma charlotte amelia sophia mia isabella ava evelyn luna harper sofia scarlett
elizabeth eleanor emily chloe mila violet penelope gianna aria abigail ella avery hazel
nora layla lily aurora nova ellie madison grace isla willow zoey riley stella millie
victoria hannah addison leah lucy eliana ivy everly lillian paisley elena naomi maya
natalie kinsley delilah claire audrey aaliyah ruby brooklyn alice aubrey autumn leilani
savannah valentina kennedy madelyn josephine bella skylar genesis sophie hailey sadie
natalia quinn caroline allison gabriella anna serenity nevaeh cora ariana emery lydia
jade sarah eva adeline madeline piper rylee athena peyton everleigh vivian clara raelynn
liliana samantha maria iris ayla eloise lyla eliza kaylee guadalupe ximena camila
daniela fernanda mariana lucia jimena catalina rosa andrea""")
NICKNAMES = {"william": "bill", "robert": "bob", "elizabeth": "liz", "james": "jim",
             "michael": "mike", "joseph": "joe", "thomas": "tom", "daniel": "dan",
             "samuel": "sam", "benjamin": "ben", "alexander": "alex", "nicholas": "nick",
             "christopher": "chris", "jonathan": "jon", "matthew": "matt", "andrew": "andy",
             "anthony": "tony", "margaret": "maggie", "katherine": "kate", "victoria": "tori",
             "samantha": "sam", "natalie": "nat", "abigail": "abby", "isabella": "bella",
             "josephine": "josie", "gabriella": "gabby", "madeline": "maddie",
             "francisco": "paco", "guadalupe": "lupe", "jose": "pepe", "eduardo": "lalo",
             "alejandro": "alex", "theodore": "teddy", "jacob": "jake", "olivia": "liv",
             "emily": "millie", "caroline": "carrie", "allison": "ally", "valentina": "vale"}
SYLLABLES = _words("""
ka ri mo ta ne lu sa vi do be ra zo mi an el or us in ha ko ya te""")
OCR = {"o": "0", "l": "1", "s": "5", "i": "1", "b": "8"}
OCR_DIGITS = {"0": "O", "1": "l", "5": "S", "8": "B"}
