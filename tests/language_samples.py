"""Short news texts in many languages, written for newsindex's tests and language benchmark.

Each language has a headline (a few words: the hard case for detection) and a
short paragraph. They are our own sentences, not taken from any corpus.
"""
from __future__ import annotations

# code -> (headline, paragraph)
SAMPLES: dict[str, tuple[str, str]] = {
    "en": ("Unions call for higher wages as prices rise",
           "The unions said on Tuesday that wages must rise faster than prices. The government "
           "replied that it would present a new budget before the summer."),
    "de": ("Gewerkschaften fordern höhere Löhne",
           "Die Gewerkschaften verlangen eine deutliche Erhöhung der Löhne. Der Finanzminister "
           "kündigte an, dass die Regierung im Herbst einen neuen Haushalt vorlegen werde."),
    "fr": ("Les syndicats réclament une hausse des salaires",
           "Les syndicats ont demandé mardi une augmentation des salaires. Le gouvernement a "
           "répondu qu'il présenterait un nouveau budget avant l'été."),
    "es": ("Los sindicatos piden subir los salarios",
           "Los sindicatos exigieron el martes una subida de los salarios. El Gobierno respondió "
           "que presentará un nuevo presupuesto antes del verano."),
    "it": ("I sindacati chiedono salari più alti",
           "I sindacati hanno chiesto martedì un aumento dei salari. Il governo ha risposto che "
           "presenterà una nuova legge di bilancio prima dell'estate."),
    "pt": ("Sindicatos pedem aumento dos salários",
           "Os sindicatos pediram na terça-feira um aumento dos salários. O governo respondeu que "
           "vai apresentar um novo orçamento antes do verão."),
    "nl": ("Vakbonden eisen hogere lonen",
           "De vakbonden eisten dinsdag een flinke loonsverhoging. De regering antwoordde dat zij "
           "voor de zomer een nieuwe begroting zal presenteren."),
    "sv": ("Facken kräver högre löner",
           "Fackförbunden krävde på tisdagen att lönerna ska höjas. Regeringen svarade att den "
           "kommer att lägga fram en ny budget före sommaren."),
    "da": ("Fagforeningerne kræver højere lønninger",
           "Fagforeningerne krævede tirsdag, at lønningerne skal stige. Regeringen svarede, at den "
           "vil fremlægge et nyt budget inden sommeren."),
    "no": ("Fagforeningene krever høyere lønn",
           "Fagforeningene krevde tirsdag at lønningene må øke. Regjeringen svarte at den vil "
           "legge fram et nytt budsjett før sommeren."),
    "fi": ("Ammattiliitot vaativat korkeampia palkkoja",
           "Ammattiliitot vaativat tiistaina palkkojen korottamista. Hallitus vastasi esittelevänsä "
           "uuden talousarvion ennen kesää."),
    "hu": ("A szakszervezetek magasabb béreket követelnek",
           "A szakszervezetek kedden a bérek emelését követelték. A kormány azt válaszolta, hogy "
           "a nyár előtt új költségvetést nyújt be."),
    "ro": ("Sindicatele cer salarii mai mari",
           "Sindicatele au cerut marți o creștere a salariilor. Guvernul a răspuns că va prezenta "
           "un nou buget înainte de vară."),
    "ru": ("Профсоюзы требуют повышения зарплат",
           "Во вторник профсоюзы потребовали повысить заработную плату. Правительство ответило, "
           "что представит новый бюджет до лета."),
    "uk": ("Профспілки вимагають підвищення зарплат",
           "У вівторок профспілки вимагали підвищити заробітну плату. Уряд відповів, що представить "
           "новий бюджет до літа."),
    "pl": ("Związki zawodowe żądają wyższych płac",
           "Związki zawodowe zażądały we wtorek podwyżek płac. Rząd odpowiedział, że przedstawi nowy "
           "budżet przed latem."),
    "cs": ("Odbory požadují vyšší mzdy",
           "Odbory v úterý požadovaly zvýšení mezd. Vláda odpověděla, že před létem představí nový "
           "rozpočet."),
    "tr": ("Sendikalar daha yüksek ücret istiyor",
           "Sendikalar salı günü ücretlerin artırılmasını talep etti. Hükümet, yazdan önce yeni bir "
           "bütçe sunacağını açıkladı."),
    "el": ("Τα συνδικάτα ζητούν υψηλότερους μισθούς",
           "Τα συνδικάτα ζήτησαν την Τρίτη αύξηση των μισθών. Η κυβέρνηση απάντησε ότι θα "
           "παρουσιάσει νέο προϋπολογισμό πριν από το καλοκαίρι."),
    "ar": ("النقابات تطالب برفع الأجور",
           "طالبت النقابات يوم الثلاثاء برفع الأجور. وردت الحكومة بأنها ستقدم ميزانية جديدة قبل "
           "الصيف."),
    "he": ("האיגודים דורשים העלאת שכר",
           "האיגודים המקצועיים דרשו ביום שלישי להעלות את השכר. הממשלה השיבה כי תציג תקציב חדש לפני "
           "הקיץ."),
    "id": ("Serikat pekerja menuntut kenaikan upah",
           "Serikat pekerja pada hari Selasa menuntut kenaikan upah. Pemerintah menjawab bahwa "
           "anggaran baru akan diajukan sebelum musim panas."),
    "ca": ("Els sindicats demanen apujar els salaris",
           "Els sindicats van reclamar dimarts un augment dels salaris. El Govern va respondre que "
           "presentarà un nou pressupost abans de l'estiu."),
    "zh": ("工会要求提高工资",
           "工会周二要求提高工资。政府回应说，将在夏天之前提出新的预算。"),
    "ja": ("労働組合が賃上げを要求",
           "労働組合は火曜日、賃金の引き上げを求めた。政府は夏までに新しい予算案を提出すると答えた。"),
    "ko": ("노조, 임금 인상 요구",
           "노동조합은 화요일 임금 인상을 요구했다. 정부는 여름 전에 새 예산안을 제출하겠다고 밝혔다."),
}
